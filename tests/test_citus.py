"""Phase 9 (09_distribute) and the tenant commands on a real Citus cluster: a coordinator and two workers, each a
private server of the PostgreSQL that Citus is installed into (tenant_migrate/citus/cluster.py).

One cluster and one distribution for the module: the legacy demo database migrated through phases 1-8 on the
coordinator, then `migrate --to 9` through the flow (backup, apply, validation, gate, the acceptance checklist on the
cluster), the checks on the distributed tables, tenant naming on the workers, a tenant isolated and moved beside a live
writer, the rollback to phase 8, then to the legacy schema. The tests run in file order and each builds on the state
the earlier ones left.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from conftest import TEST_SCALE, snapshot
from typer.testing import CliRunner

from tenant_migrate import backend_contract as bc
from tenant_migrate import demo, fingerprint, ledger, runner
from tenant_migrate.acceptance import checks
from tenant_migrate.acceptance.checklist import run_checklist
from tenant_migrate.citus import cluster, tenants
from tenant_migrate.cli.main import app
from tenant_migrate.db import connection, scalar
from tenant_migrate.errors import MigrationError
from tenant_migrate.flows.migrate import migrate
from tenant_migrate.flows.rollback import rollback
from tenant_migrate.guard import Budgets


def _why_not_here() -> str | None:
    """The cluster tests run once per `make test`: in the pass whose private servers are the PostgreSQL that Citus
    is installed into (.ci/run's PostgreSQL 15 pass), and only where Citus is installed."""
    if reason := cluster.unavailable():
        return reason
    chosen = os.environ.get("TENANT_MIGRATE_PG_BIN")
    if not chosen or Path(chosen).resolve() != cluster.CITUS_BIN.resolve():
        return (f"the Citus cluster tests run in the pass against the PostgreSQL Citus is installed into: "
                f"TENANT_MIGRATE_PG_BIN={cluster.CITUS_BIN} make test")
    return None


pytestmark = [pytest.mark.citus, pytest.mark.slow, pytest.mark.flow,
              pytest.mark.skipif(_why_not_here() is not None, reason=_why_not_here() or ""),
              pytest.mark.usefixtures("prefect_harness")]

APP_ROLE, LEGACY_ROLE = "citus_test_app", "citus_test_legacy"  # the app's login roles (cluster-wide, private cluster)


@pytest.fixture(scope="module")
def citus() -> Iterator[SimpleNamespace]:
    """The cluster, its database migrated through phase 8 on the coordinator (local tables), the app's roles. Its
    data directories are not under pytest's base folder, which another pytest session of this machine's user
    closes to other users (the servers' OS user reads them by absolute path)."""
    base = Path(tempfile.mkdtemp(prefix="tm-test-citus-"))
    nodes = cluster.start(base)
    try:
        dsn = cluster.create_database(nodes, "tm_citus")
        demo.load(dsn, TEST_SCALE)
        legacy = (snapshot(dsn), fingerprint.take(dsn))
        outcome = runner.migrate(dsn, to=8)[-1]
        with connection(dsn) as conn:  # Citus creates them on the workers too: its sessions there log in as them
            ledger.record_decision(conn, phase=8, direction="up", run_id=outcome.run_id, decision="auto",
                                   decided_by="test", comment="", flow_run_id=None)  # no gate of 8 again
            conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN IN ROLE tenant_app")
            conn.execute(f"CREATE ROLE {LEGACY_ROLE} LOGIN IN ROLE tenant_legacy")
        yield SimpleNamespace(nodes=nodes, dsn=dsn, facts={"legacy": legacy})
    finally:
        cluster.stop(nodes)
        shutil.rmtree(base, ignore_errors=True)


def as_role(dsn: str, role: str) -> str:
    return psycopg.conninfo.make_conninfo(dsn, user=role)


def catalog(dsn: str) -> list[tuple]:
    with connection(dsn) as conn:
        return conn.execute("SELECT kind, table_name, name, detail FROM tenant_migrate.catalog_objects "
                            "ORDER BY 1, 2, 3").fetchall()


def table_oids(dsn: str) -> dict[str, int]:
    with connection(dsn) as conn:
        return dict(conn.execute("SELECT relname, oid FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                                 "AND relkind = 'r'").fetchall())


def stale_identities(dsn: str) -> list[tuple]:
    """Rows of the ledger (what the phases hold, the catalog before phase 1, the saved definitions' tables) whose
    recorded identity is not the one the catalog gives their key now."""
    with connection(dsn) as conn:
        return conn.execute(
            "SELECT 'owned', o.kind, o.table_name, o.name FROM tenant_migrate.owned_objects AS o "
            "JOIN tenant_migrate.catalog_objects AS c USING (kind, table_name, name) "
            "WHERE o.ownership <> 'pending' AND o.released_at IS NULL AND (o.objid, o.objsub) <> (c.objid, c.objsub) "
            "UNION ALL SELECT 'baseline', b.kind, b.table_name, b.name FROM tenant_migrate.baseline_objects AS b "
            "JOIN tenant_migrate.catalog_objects AS c USING (kind, table_name, name) "
            "WHERE (b.objid, b.objsub) <> (c.objid, c.objsub) "
            "UNION ALL SELECT 'saved', 'table', s.table_name, s.object_name FROM tenant_migrate.saved_objects AS s "
            "WHERE s.table_oid IS DISTINCT FROM to_regclass(format('public.%I', s.table_name))::oid").fetchall()


def tenant_counts(dsn: str) -> dict[str, int]:
    with connection(dsn) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM tenant_migrate.tenant_tables ORDER BY 1")]
        return {t: scalar(conn, psycopg.sql.SQL("SELECT count(*) FROM public.{}").format(psycopg.sql.Identifier(t)))
                for t in tables}


def test_check_says_what_citus_would_refuse_on_a_plain_server_and_refuses_it_on_the_coordinator(citus, legacy_db):
    runner.migrate(legacy_db)  # the session's plain server: what stands between it and Citus, as information
    for dsn in (legacy_db, citus.dsn):
        with connection(dsn) as conn:
            conn.execute("ALTER TABLE contacts ADD CONSTRAINT contacts_name_key UNIQUE (name)")
    plain = CliRunner().invoke(app, ["check", "--dsn", legacy_db, "--no-app-statements"])
    assert 0 == plain.exit_code, plain.output
    lines = [line.strip() for line in plain.output.splitlines() if line.strip().startswith("CITUS")]
    assert "what stands between this database and Citus" in lines[0]
    assert any("REFUSE  unique key contacts.contacts_name_key" in line and "Distributed relations cannot have UNIQUE"
               in line for line in lines), lines
    assert any("NOTE    primary key contacts.contacts_pkey" in line and "PRIMARY KEY (user_id, id) replaces it" in line
               for line in lines), lines

    before = catalog(citus.dsn)
    refused = CliRunner().invoke(app, ["check", "--dsn", citus.dsn, "--to", "9", "--no-app-statements"])
    assert 1 == refused.exit_code, refused.output
    assert any(line.strip().startswith("REFUSE  phase 9 unique key contacts.contacts_name_key")
               for line in refused.output.splitlines()), refused.output
    assert any("NOTE    phase 9 global key users.users_email_key" in line and "users_email_owner" in line
               for line in refused.output.splitlines()), refused.output
    with pytest.raises(MigrationError, match="check: phase 9 unique key contacts.contacts_name_key"):
        runner.apply_phase(citus.dsn, 9)
    assert before == catalog(citus.dsn)  # refused before any change
    with connection(citus.dsn) as conn:
        conn.execute("ALTER TABLE contacts DROP CONSTRAINT contacts_name_key")
        assert 9 not in ledger.latest_runs(conn)


@pytest.fixture(scope="module")
def distributed(citus, tmp_path_factory) -> SimpleNamespace:
    """`migrate --to 9` through the flow, auto-approved, on the database of phase 8; what it was before."""
    citus.facts.update(catalog=catalog(citus.dsn), counts=tenant_counts(citus.dsn),
                       fingerprint=fingerprint.take(citus.dsn), oids=table_oids(citus.dsn))
    started = time.monotonic()
    state = migrate(database=citus.dsn, to=9, approval="auto", backup_dir=str(tmp_path_factory.mktemp("backups")),
                    acceptance_load_tenants=2, acceptance_load_seconds=1, return_state=True)
    citus.facts.update(state=state, seconds=time.monotonic() - started)
    return citus


def test_migrate_to_9_distributes_every_tenant_table_colocated_with_users_and_keeps_every_row(distributed):
    with connection(distributed.dsn) as conn:  # backed up, applied, validated and gated like every phase
        run = ledger.latest_runs(conn)[9]
        assert ("up", "applied", "auto") == (run["direction"], run["status"], run["decision"])
        assert run["backup_sha256"] and run["validation"]["success"] and run["flow_run_id"]
        tables = dict(conn.execute(
            "SELECT t.table_name, c.citus_table_type || ':' || c.distribution_column || ':' || "
            "(c.colocation_id = (SELECT colocation_id FROM citus_tables WHERE table_name = 'public.users'::regclass)"
            ")::text FROM tenant_migrate.tenant_tables AS t "
            "LEFT JOIN citus_tables AS c ON c.table_name = format('public.%I', t.table_name)::regclass").fetchall())
    owners = {t for t in tables if t.endswith("_owner")}
    assert {"users_email_owner", "chatbots_whatsapp_phone_number_owner", "orders_order_number_owner",
            "api_keys_api_key_hash_owner"} == owners
    assert {t: "reference:<none>:false" for t in owners} == {t: tables[t] for t in owners}
    assert {t: f"distributed:{'id' if t == 'users' else 'user_id'}:true" for t in tables if t not in owners} == \
        {t: v for t, v in tables.items() if t not in owners}
    oids = distributed.facts["oids"]  # create_distributed_table keeps the coordinator's table: the ledger holds
    assert oids == {t: oid for t, oid in table_oids(distributed.dsn).items() if t in oids}
    assert [] == stale_identities(distributed.dsn)
    assert distributed.facts["counts"] == {t: n for t, n in tenant_counts(distributed.dsn).items() if t not in owners}
    assert [] == fingerprint.differences(distributed.facts["fingerprint"],
                                         fingerprint.take(distributed.dsn, distributed.facts["fingerprint"].columns))


def test_the_acceptance_checklist_passes_on_the_cluster(distributed):
    """On Citus its tenants' onboarding commits (one role per transaction on a tenant's rows) and they are removed
    at the end: the rows are those of before (test_migrate_to_9_... compares them after the flow's checklist)."""
    state = distributed.facts["state"]
    assert state.is_completed(), state.message


def test_a_tenant_that_an_interrupted_checklist_left_is_removed_by_the_next(distributed):
    with connection(distributed.dsn) as conn:
        counts = tenant_counts(distributed.dsn)
        with conn.transaction():
            left = checks.onboard(conn)["user_id"]  # committed, as on a cluster before the checklist is killed
    lines = run_checklist(distributed.dsn, samples=5, load_tenants=2, load_seconds=0.5)
    assert [] == [line for line in lines if not line["ok"]]
    queries = [line["evidence"] for line in lines if line["check"].startswith("Query under")]
    assert 4 == len(queries) and all("Index Scan using" in e and e.endswith("(1 shard)") for e in queries), queries
    with connection(distributed.dsn) as conn:
        assert 0 == scalar(conn, "SELECT count(*) FROM users WHERE id = %s", (left,))
    assert counts == tenant_counts(distributed.dsn)


def test_the_checklists_login_roles_are_dropped_on_every_node(distributed):
    """Its own login role and, on the cluster, one per app role it acts as (created on the workers by Citus)."""
    for node in distributed.nodes.nodes:
        with connection(node) as conn:
            assert [] == conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'tenant\\_migrate\\_probe\\_%'"
                                      ).fetchall(), node


def test_a_tenants_lookup_by_phone_number_is_routed_to_one_shard(distributed):
    with connection(distributed.dsn) as conn:
        phone = scalar(conn, "SELECT phone_number FROM contacts WHERE user_id = 1 LIMIT 1")
    with psycopg.connect(as_role(distributed.dsn, APP_ROLE)) as app_conn, app_conn.transaction():
        bc.name_tenant(app_conn, 1)  # the contract's lookup, as the app runs it
        query = "EXPLAIN " + bc.read_sql("tenant/find_contact.sql")
        plan = "\n".join(r[0] for r in app_conn.execute(query, {"phone_number": phone, "user_id": 1,
                                                                "unfilled": False}))
        found = app_conn.execute(bc.read_sql("tenant/find_contact.sql"),
                                 {"phone_number": phone, "user_id": 1, "unfilled": False}).fetchall()
    assert "Task Count: 1" in plan and 1 == len(found), plan


def test_two_tenants_through_the_backend_contract_on_the_cluster_see_only_their_own_rows(distributed):
    dsn = distributed.dsn
    with connection(dsn) as owner:
        b_user, b_bot = bc.create_tenant(owner, "citus-tenant-b@example.invalid")
        phone = scalar(owner, "SELECT phone_number FROM contacts WHERE user_id = 1 LIMIT 1")
        with pytest.raises(psycopg.errors.UniqueViolation):  # its email is taken: users_email_owner says so
            bc.create_tenant(owner, "citus-tenant-b@example.invalid")
    with psycopg.connect(as_role(dsn, APP_ROLE)) as app_conn:
        mine = bc.get_or_create_contact(app_conn, phone, "b's customer", user_id=b_user, chatbot_id=b_bot)
        bc.log_message(app_conn, mine.id, "incoming", "hello b", user_id=b_user, chatbot_id=b_bot)
        admins = bc.get_or_create_contact(app_conn, phone)
        assert mine.created and not admins.created and mine.id != admins.id
        for tenant, count in ((b_user, 1), (1, distributed.facts["counts"]["contacts"])):
            with app_conn.transaction():
                bc.name_tenant(app_conn, tenant)
                seen = app_conn.execute("SELECT count(*), count(*) FILTER (WHERE user_id <> %s) FROM contacts",
                                        (tenant,)).fetchone()
            assert (count, 0) == seen, tenant  # every shard confines the tenant: none of the other's rows
    with psycopg.connect(as_role(dsn, APP_ROLE), autocommit=True) as careless:
        # values of the session, even with propagation on and in the form a worker takes, never reach the workers;
        # set_config names the tenant on the coordinator only: the role sees no row on the shards
        careless.execute("SET citus.propagate_set_commands = 'local'")
        careless.execute("SET app.tenant_id = '1/1'")
        for naming in ("SELECT 1", "SELECT set_config('app.tenant_id', '1/' || public.app_tenant_token(), true)"):
            with careless.transaction():
                careless.execute(naming)
                assert 0 == scalar(careless, "SELECT count(*) FROM contacts"), naming
        careless.execute("RESET ALL")
        with careless.transaction():  # no tenant named at all
            assert 0 == scalar(careless, "SELECT count(*) FROM messages")
    with psycopg.connect(as_role(dsn, LEGACY_ROLE)) as legacy:  # the legacy backend: tenant 1's rows only
        assert admins.id == bc.get_or_create_contact(legacy, phone).id
        assert (distributed.facts["counts"]["contacts"], 0) == legacy.execute(
            "SELECT count(*), count(*) FILTER (WHERE user_id <> 1) FROM contacts").fetchone()


class Writer:
    """The legacy backend writing tenant 1's messages through the coordinator, as its own login role: every call's
    latency, and the errors."""

    def __init__(self, dsn: str) -> None:
        self.dsn, self.stop, self.calls = dsn, threading.Event(), []
        self.thread = threading.Thread(target=self._run)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            contact = scalar(conn, "SELECT min(id) FROM contacts")
            n = 0
            while not self.stop.is_set():
                n, started = n + 1, time.monotonic()
                try:
                    conn.execute("INSERT INTO messages (contact_id, message_id, direction, message_type, content_text, "
                                 "status, sent_at) VALUES (%s, %s, 'incoming', 'text', 'hi', 'delivered', now())",
                                 (contact, f"citus-writer-{n}"))
                    self.calls.append((started, time.monotonic() - started, None))
                except psycopg.Error as exc:
                    self.calls.append((started, time.monotonic() - started, str(exc)))
                time.sleep(0.01)

    def __enter__(self) -> Writer:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()


def test_a_big_tenant_gets_shards_of_its_own_then_moves_to_the_other_worker_with_the_guard_watching(distributed):
    dsn = distributed.dsn
    with connection(dsn) as conn:
        before = tenants.placement(conn, 1)
    budgets = Budgets(lock_wait_ms=60_000)  # the writes to the moved shards wait for the copy: allowed here
    with Writer(as_role(dsn, LEGACY_ROLE)) as writer:
        isolated = tenants.isolate(dsn, 1, budgets)
        other = next(node for node in map(node_name, distributed.nodes.workers) if node != before.node)
        moved = tenants.move(dsn, 1, other, budgets)
    assert not before.alone and isolated["changed"] and isolated["after"]["hash_values"] == 1
    assert isolated["after"]["node"] == before.node and moved["after"]["node"] == other
    assert moved["after"]["shard_id"] == isolated["after"]["shard_id"]
    for outcome in (isolated, moved):  # the guard watched the coordinator the whole time and saw the writer wait
        guard = outcome["guard"]
        assert guard["whole_phase"] and guard["waits_seen"] > 0 and [] == guard["cancels"], guard
    # a write caught at the moment Citus switches the shards over may fail once (the app retries it); no other
    unexpected = [c[2] for c in writer.calls if c[2] and "shard for the given value does not exist" not in c[2]]
    assert [] == unexpected and len([c for c in writer.calls if c[2]]) <= 2, writer.calls
    written = len([c for c in writer.calls if not c[2]])
    assert written > 20
    with connection(dsn) as conn:
        assert written == scalar(conn, "SELECT count(*) FROM messages WHERE user_id = 1 AND message_id LIKE "
                                       "'citus-writer-%'")
    for command in (["tenant", "where", "--tenant", "1"], ["tenant", "isolate", "--tenant", "1"]):
        result = CliRunner().invoke(app, [*command, "--dsn", dsn])
        assert 0 == result.exit_code and f"on {other} (its own" in result.output, result.output
    assert "nothing to do" in result.output
    result = CliRunner().invoke(app, ["tenant", "move", "--tenant", "1", "--to", "127.0.0.1:1", "--dsn", dsn])
    assert 1 == result.exit_code and "127.0.0.1:1: not an active worker of this cluster" in result.output


def node_name(dsn: str) -> str:
    with connection(dsn) as conn:
        return f"{conn.info.host}:{conn.info.port}"


def test_rollback_to_8_gives_back_local_tables_with_the_same_rows_and_catalog(distributed, tmp_path):
    dsn = distributed.dsn
    taken, counts = fingerprint.take(dsn, distributed.facts["fingerprint"].columns), tenant_counts(dsn)
    state = rollback(database=dsn, to=8, approval="auto", backup_dir=str(tmp_path), return_state=True)
    assert state.is_completed(), state.message
    assert [(9, True)] == [(r["phase"], r["previous phase valid"]) for r in state.result()]
    with connection(dsn) as conn:
        assert 0 == scalar(conn, "SELECT count(*) FROM pg_dist_partition")
        assert {8} == {n for n in ledger.applied_phases(conn) if n > 7}
    assert {t: n for t, n in counts.items() if not t.endswith("_owner")} == tenant_counts(dsn)
    assert [] == fingerprint.differences(taken, fingerprint.take(dsn, taken.columns))
    reparsed = {(k, t, n) for k, t, n, d in catalog(dsn) if d.startswith("CHECK")}  # the same CHECK, written anew
    assert [r for r in distributed.facts["catalog"] if r[:3] not in reparsed] == \
        [r for r in catalog(dsn) if r[:3] not in reparsed]
    assert [] == stale_identities(dsn)  # undistribute_table built every table anew: the ledger followed


def test_then_rollback_to_0_gives_back_the_legacy_schema_and_rows(distributed):
    """Phases 8 to 1 roll back on the tables undistribute_table rebuilt (the ledger's identities followed them), once
    the rows this module's tests wrote are gone: the legacy catalog and rows, exactly."""
    dsn = distributed.dsn
    with connection(dsn) as conn:
        conn.execute("DELETE FROM messages WHERE message_id LIKE 'citus-writer-%'")
        tenant_b = scalar(conn, "SELECT id FROM users WHERE email = 'citus-tenant-b@example.invalid'")
        left = [r[0] for r in conn.execute("SELECT table_name FROM tenant_migrate.tenant_tables ORDER BY 1")]
        while left:  # tenant B's rows, a table that others reference once they are emptied
            kept = []
            for table in left:
                try:
                    with conn.transaction():
                        conn.execute(psycopg.sql.SQL("DELETE FROM public.{} WHERE {} = %s").format(
                            psycopg.sql.Identifier(table),
                            psycopg.sql.Identifier("id" if table == "users" else "user_id")), (tenant_b,))
                except psycopg.errors.ForeignKeyViolation:
                    kept.append(table)
            assert len(kept) < len(left), kept
            left = kept
    assert [8, 7, 6, 5, 4, 3, 2, 1] == [o.phase for o in runner.rollback(dsn, to=0)]
    legacy_shape, legacy_rows = distributed.facts["legacy"]
    assert legacy_shape == snapshot(dsn)
    assert [] == fingerprint.differences(legacy_rows, fingerprint.take(dsn, legacy_rows.columns))
