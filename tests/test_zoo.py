"""The schema zoo: legacy databases that differ from the demo the way production databases do (tests/zoo/*.sql,
each applied on top of the demo's legacy schema and data).

A variant expected to migrate: the whole-plan check refuses nothing (and adopts what it says); the migration
goes to the last phase (each phase validated by its suite where the variant asks); the content fingerprint of
every table of the app's, over its own columns, is unchanged, so no trigger of the app's fired and no value of
the app's changed; the rollback to phase 0 gives back the same catalog and the same content.
A variant expected to be refused: the check names each conflict on one line, a migration stops before any
change, and the database is exactly as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from conftest import clone_legacy
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tenant_migrate import demo, fingerprint, ledger, ownership, runner
from tenant_migrate.db import Counts, connection, table_stats
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import ConflictError
from tenant_migrate.plan import default_target, load_plan
from tenant_migrate.tasks.validate import TENANT_FIGURES_AFTER
from tenant_migrate.validation.checkpoints import validate_phase

ZOO = Path(__file__).parent / "zoo"
HEADER = re.compile(r"^--\s*(expect|refuses|adopts|ways|validate|app-writes|then-refused|cleanup|langgraph|warns|"
                    r"keeps|runs-as):\s*(.+?)\s*$", re.MULTILINE)


@dataclass
class Variant:
    path: Path
    expect: str = "migrates"
    refuses: list[str] = field(default_factory=list)
    adopts: list[str] = field(default_factory=list)
    ways: list[str] = field(default_factory=lambda: ["instant"])
    validate: set[int] = field(default_factory=set)  # the phases validated by their suites
    app_writes: tuple[int, str] | None = None  # before this phase the app writes this (the phases so far applied)
    then_refused: list[str] = field(default_factory=list)  # what the check before that phase says about it
    cleanup: list[str] = field(default_factory=list)  # what the operator does about it, and the migration goes on
    langgraph: list[str] = field(default_factory=list)  # LangGraph's checkpointer keeps the contacts' conversations
    warns: list[str] = field(default_factory=list)  # what the check warns about (without the kept values)
    keeps: list[str] = field(default_factory=list)  # --keep-global-unique
    runs_as: str = "superuser"  # or owner: a managed service's admin role (CREATEROLE CREATEDB, not superuser)

    @property
    def name(self) -> str:
        return self.path.stem


def variant(path: Path) -> Variant:
    found = Variant(path)
    for key, value in HEADER.findall(path.read_text(encoding="utf-8")):
        if key == "expect":
            found.expect = value
        elif key == "ways":
            found.ways = value.split()
        elif key == "validate":
            found.validate = {p.number for p in load_plan()} if value == "all" else {int(n) for n in value.split()}
        elif key == "runs-as":
            found.runs_as = value
        elif key == "app-writes":
            number, statement = value.split(" ", 1)
            found.app_writes = (int(number), statement)
        else:
            getattr(found, key.replace("-", "_")).append(value)
    return found


VARIANTS = [variant(p) for p in sorted(ZOO.glob("*.sql"))]
MIGRATING = [(v, way) for v in VARIANTS if v.expect == "migrates" for way in v.ways]
REFUSED = [v for v in VARIANTS if v.expect == "refused"]


@pytest.fixture
def zoo_db(pg_server: str, legacy_template: str, request: pytest.FixtureRequest):
    """A legacy database with the variant applied (as the superuser that created the template)."""
    zoo: Variant = request.param
    dsn = clone_legacy(pg_server, legacy_template)
    with connection(dsn) as conn:
        conn.execute(zoo.path.read_text(encoding="utf-8"))
        threads = [r[0] for r in conn.execute("SELECT thread_id FROM contacts WHERE thread_id IS NOT NULL "
                                              "ORDER BY id LIMIT 10")]
    if zoo.langgraph:
        langgraph_conversations(dsn, threads)
    if zoo.runs_as == "owner":
        yield managed_service_owner(dsn)
        with connection(dsn) as conn:
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO CURRENT_USER").format(sql.Identifier(database_name(dsn))))
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(f"{database_name(dsn)}_owner")))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(f"{database_name(dsn)}_owner")))
    else:
        yield dsn
    demo.drop_database(pg_server, database_name(dsn))


def langgraph_conversations(dsn: str, threads: list[str]) -> None:
    """The backend's conversation store: LangGraph's Postgres checkpointer sets up its tables and saves a checkpoint
    (and a pending write) of each thread, as a graph run for each contact would."""
    from langgraph.checkpoint.base import empty_checkpoint  # noqa: PLC0415 - only this variant needs LangGraph
    from langgraph.checkpoint.postgres import PostgresSaver  # noqa: PLC0415

    with PostgresSaver.from_conn_string(dsn) as saver:
        saver.setup()
        for thread in threads:
            checkpoint = empty_checkpoint()
            checkpoint["channel_values"] = {"messages": [f"hello on {thread}"]}
            checkpoint["channel_versions"] = {"messages": 1}
            saved = saver.put({"configurable": {"thread_id": thread, "checkpoint_ns": ""}}, checkpoint,
                              {"source": "input", "step": 0}, {"messages": 1})
            saver.put_writes(saved, [("messages", "pending reply")], task_id="reply")
        assert saver.get_tuple({"configurable": {"thread_id": threads[0]}}) is not None


def managed_service_owner(dsn: str) -> str:
    """The DSN of a role like a managed service's admin (LOGIN CREATEROLE CREATEDB, not superuser, no replication,
    no BYPASSRLS) that owns the database and every table and view of the app's (their sequences with them), as when
    the app's migrations ran as it. When the tenant roles of phase 8 exist already in the test cluster (other tests
    made them), it is given what it would have had, had it created them: on PostgreSQL 16+ ADMIN without INHERIT or
    SET (what CREATE ROLE gives its CREATEROLE creator), before 16 nothing (CREATEROLE may grant them all)."""
    role = f"{database_name(dsn)}_owner"
    with connection(dsn) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB NOSUPERUSER NOREPLICATION NOBYPASSRLS").format(
            sql.Identifier(role)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database_name(dsn)),
                                                                   sql.Identifier(role)))
        for (relation,) in conn.execute("SELECT c.oid::regclass::text FROM pg_class AS c WHERE c.relnamespace = "
                                        "'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm') "
                                        "AND NOT c.relispartition").fetchall():
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.SQL(relation), sql.Identifier(role)))
        if conn.info.server_version >= 160000:
            for (tenant_role,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname IN "
                                               "('tenant_app', 'tenant_legacy', 'tenant_owner')").fetchall():
                conn.execute(sql.SQL("GRANT {} TO {} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE").format(
                    sql.Identifier(tenant_role), sql.Identifier(role)))
    return make_conninfo(dsn, user=role)


def catalog(dsn: str) -> ownership.Catalog:
    """Every object of the public schema, and the tenant roles' memberships (the roles themselves may stay, and so
    does the membership a CREATEROLE role gets in a role it creates: that of a managed service's owner)."""
    with connection(dsn) as conn:
        return {k: v for k, v in ownership.catalog(conn).items()
                if k[0] != "role" and not (k[0] == "membership" and k[2].split(" in ")[0].endswith("_owner"))}


def test_the_zoo_has_at_least_twelve_variants_of_both_kinds():
    assert len(VARIANTS) >= 12
    assert MIGRATING and REFUSED


@pytest.mark.slow
@pytest.mark.parametrize(("zoo_db", "way"), MIGRATING, ids=[f"{v.name}-{w}" for v, w in MIGRATING],
                         indirect=["zoo_db"])
def test_a_variant_migrates_and_rolls_back_leaving_the_app_as_it_was(zoo_db: str, way: str, request):
    zoo: Variant = request.node.callspec.params["zoo_db"]
    settings = runner.Settings(backfill=way, keep_global_unique=tuple(zoo.keeps))
    warned = [f.line() for f in runner.check(zoo_db, backfill=way)[1] if f.verdict == "warn"]
    for expected in zoo.warns:
        assert [line for line in warned if re.search(expected, line)], (expected, warned)
    assert len(zoo.warns) == len(warned), warned
    _, findings = runner.check(zoo_db, backfill=way, keep_global_unique=settings.keep_global_unique)
    assert [] == [f.line() for f in findings if f.verdict in ("refuse", "warn")]
    adopted = [f.object for f in findings if f.verdict == "adopt" and not f.object.startswith("role ")]
    assert sorted(zoo.adopts) == sorted(adopted)
    shape, before = catalog(zoo_db), fingerprint.take(zoo_db)

    counted = None  # the flow's count after the phase before: the next check's tenant figures and snapshot
    for target in load_plan()[:default_target()]:  # phase 9 is Citus only
        if zoo.app_writes and zoo.app_writes[0] == target.number:
            refused_before(zoo_db, zoo, target.number, settings)
        runner.migrate(zoo_db, to=target.number, settings=replace(settings, counted=counted))
        counted = flow_count(zoo_db, target.number)
        if target.number in zoo.validate:
            for given in (None, counted):  # standalone, and after the flow's count as the flow runs it
                result = validate_phase(zoo_db, target.number, docs=False, counted=given)
                assert result["success"], (given, result["failed"])
    assert [] == fingerprint.differences(before, fingerprint.take(zoo_db, before.columns))
    assert [] == references_of_another_type(zoo_db, {name for kind, _, name in shape if kind == "table"})

    runner.rollback(zoo_db, 0)
    assert shape == catalog(zoo_db)
    assert [] == fingerprint.differences(before, fingerprint.take(zoo_db))


def flow_count(dsn: str, number: int) -> Counts:
    """The migrate flow's count after phase `number` (row_counts_task's): since its snapshot, with the rows off
    tenant 1 after the phases whose next readers take them."""
    with connection(dsn) as conn:
        snapshot = ledger.snapshot(conn, ledger.latest_run(conn, number)["id"])
        return table_stats(conn, since=snapshot, tenants=number in TENANT_FIGURES_AFTER)


def references_of_another_type(dsn: str, app_tables: set[str]) -> list[tuple]:
    """Each column of a table the plan created that references another table with a type other than the key it
    references (a contact_id integer where contacts.id is a uuid or a bigint)."""
    with connection(dsn) as conn:
        rows = conn.execute(
            "SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), format_type(r.atttypid, r.atttypmod) "
            "FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid "
            "CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS u (col, referenced) "
            "JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.col "
            "JOIN pg_attribute AS r ON r.attrelid = k.confrelid AND r.attnum = u.referenced "
            "WHERE k.contype = 'f' AND c.relnamespace = 'public'::regnamespace AND a.atttypid <> r.atttypid").fetchall()
    return [r for r in rows if r[0] not in app_tables]


def refused_before(dsn: str, zoo: Variant, number: int, settings: runner.Settings) -> None:
    """The app writes what the variant says between two phases: the check before phase `number` refuses, and
    changes nothing; the operator cleans up, and the migration can go on."""
    assert zoo.app_writes
    with connection(dsn) as conn:
        conn.execute(zoo.app_writes[1])
    shape = catalog(dsn)
    refused = [f.line() for f in runner.check(dsn, to=number)[1] if f.verdict == "refuse"]
    for expected in zoo.then_refused:
        assert [line for line in refused if re.search(expected, line)], (expected, refused)
    for attempt in (lambda: runner.migrate(dsn, to=number, settings=settings),
                    lambda: runner.apply_phase(dsn, number, settings)):
        with pytest.raises(ConflictError) as stop:
            attempt()
        assert number == stop.value.findings[0].phase
    assert shape == catalog(dsn)
    with connection(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM tenant_migrate.phase_runs WHERE phase = %s",
                            (number,)).fetchone() == (0,)
        for statement in zoo.cleanup:
            conn.execute(statement)


@pytest.mark.parametrize("zoo_db", REFUSED, ids=[v.name for v in REFUSED], indirect=True)
def test_a_variant_is_refused_before_any_change_one_line_per_conflict(zoo_db: str, request):
    zoo: Variant = request.node.callspec.params["zoo_db"]
    shape, before = catalog(zoo_db), fingerprint.take(zoo_db)
    _, findings = runner.check(zoo_db)
    refused = [f.line() for f in findings if f.verdict == "refuse"]
    for expected in zoo.refuses:
        assert [line for line in refused if re.search(expected, line)], (expected, refused)
    assert all("\n" not in line for line in refused)
    with pytest.raises(ConflictError):
        runner.migrate(zoo_db)
    assert shape == catalog(zoo_db)
    assert [] == fingerprint.differences(before, fingerprint.take(zoo_db))
    with connection(zoo_db) as conn:
        assert conn.execute("SELECT to_regnamespace('tenant_migrate')").fetchone() == (None,)
