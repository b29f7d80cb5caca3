"""tenant_migrate/check/: the whole-plan check, before any change: create, adopt or refuse, one line each."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql
from typer.testing import CliRunner

from tenant_migrate import runner
from tenant_migrate.check import soft_references
from tenant_migrate.check.objects import declared, fits
from tenant_migrate.cli.main import app
from tenant_migrate.db import connection, table_stats
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import ConflictError, PhaseFailed
from tenant_migrate.plan import default_target, load_plan, phase
from tenant_migrate.steps import Settings

KINDS = {"table": "table", "column": "column", "constraint": "constraint", "index": "index", "function": "function"}


def declared_keys(way_objects: set[tuple[int, str, str, str]]) -> set[tuple[int, str, str, str]]:
    """(phase, kind, table, name) of what sql/<phase>/objects.toml says each phase creates."""
    keys = set()
    for target in load_plan()[:default_target()]:  # phase 9 is Citus only: tests/test_citus.py
        spec = declared(target)
        keys |= {(target.number, "table", "", t["name"]) for t in spec.get("table", [])}
        keys |= {(target.number, "column", c["table"], c["name"]) for c in spec.get("column", [])}
        keys |= {(target.number, "constraint", c["table"], c["name"]) for c in spec.get("constraint", [])}
        keys |= {(target.number, "index", i["table"], i["name"]) for i in spec.get("index", [])
                 if (target.number, "index", i["table"], i["name"]) in way_objects}  # phase 7 skips covered ones
        keys |= {(target.number, "function", "", f["signature"]) for f in spec.get("function", [])}
    return keys


@pytest.mark.parametrize("way", ["instant", "batched"])
def test_the_declared_objects_are_exactly_what_the_phases_create_on_the_demo(legacy_db, way):
    # the composite twins of the app's references depend on the app's foreign keys: the check lists each
    twins = {(f.phase, *f.key) for f in runner.check(legacy_db, backfill=way)[1]
             if f.object.startswith("reference ") and f.verdict == "create" and f.key}
    runner.migrate(legacy_db, settings=runner.Settings(backfill=way))
    with connection(legacy_db) as conn:
        rows = conn.execute("SELECT phase, kind, table_name, name FROM tenant_migrate.owned_objects "
                            "WHERE ownership = 'created' AND released_at IS NULL").fetchall()
    created = {tuple(r) for r in rows}
    # what a declared table brings with it (its columns, constraints, indexes) is declared with the table
    standalone = {r for r in created
                  if r[1] in KINDS and not (r[1] != "table" and (r[0], "table", "", r[2]) in created)}
    standalone -= {r for r in created if r[1] == "index" and (r[0], "constraint", r[2], r[3]) in created}
    assert declared_keys(created) | twins == standalone


def test_the_declared_tables_list_every_column_and_constraint_they_get(legacy_db):
    runner.migrate(legacy_db)
    with connection(legacy_db) as conn:
        rows = conn.execute("SELECT kind, table_name, name, detail FROM tenant_migrate.owned_objects "
                            "WHERE ownership = 'created' AND kind IN ('column', 'constraint')").fetchall()
    for target in load_plan()[:default_target()]:  # phase 9 is Citus only: tests/test_citus.py
        for table in declared(target).get("table", []):
            columns = {f"{name} {detail}" for kind, t, name, detail in rows if kind == "column" and t == table["name"]}
            constraints = {d for kind, t, _, d in rows if kind == "constraint" and t == table["name"]}
            assert (columns, constraints) == (set(table["columns"]), set(table["constraints"])), table["name"]


@pytest.mark.parametrize(("wanted", "found", "fit"), [
    ("text", "text", True), ("text", "character varying(255)", True), ("text", "character varying", True),
    ("text", "integer", False), ("jsonb", "json", False), ("numeric(12,2)", "numeric(10,2)", True),
    ("bigint", "integer", False), ("timestamp with time zone", "timestamp without time zone", False),
])
def test_what_fits_where_the_plan_wants_a_type(wanted, found, fit):
    assert fit == fits(wanted, found)


def test_the_demo_has_nothing_in_the_way_and_check_changes_nothing(legacy_db):
    result = CliRunner().invoke(app, ["check", "--dsn", legacy_db])
    assert 0 == result.exit_code, result.output
    assert "0 conflicts" in result.output.splitlines()[0]
    with connection(legacy_db) as conn:
        assert conn.execute("SELECT to_regnamespace('tenant_migrate')").fetchone() == (None,)


def test_plan_with_a_database_says_create_adopt_or_refuse_per_object(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute("ALTER TABLE contacts ADD COLUMN email varchar(255), ADD COLUMN language integer")
    result = CliRunner().invoke(app, ["plan", "--dsn", legacy_db, "--phase", "2"])
    assert 0 == result.exit_code, result.output
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["ADOPT", "column"] and "contacts.email" in line for line in lines)
    assert any(line.split()[:2] == ["REFUSE", "column"] and "contacts.language" in line for line in lines)
    assert any(line.split()[:2] == ["CREATE", "column"] and "contacts.tags" in line for line in lines)


def test_check_lists_every_conflict_at_once_and_exits_1(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute("CREATE TABLE products (id serial PRIMARY KEY, title text)")
        conn.execute("ALTER TABLE orders ADD COLUMN chatbot_id text")
    result = CliRunner().invoke(app, ["check", "--dsn", legacy_db])
    assert 1 == result.exit_code
    refusals = [line for line in result.output.splitlines() if line.strip().startswith("REFUSE")]
    assert 2 == len(refusals), result.output
    assert any("table products" in line and "rename" in line for line in refusals)
    assert any("column orders.chatbot_id" in line and "RENAME COLUMN" in line for line in refusals)


@pytest.fixture
def role_without_replica(legacy_db) -> str:
    """A role that owns the legacy tables, is not superuser and may not set session_replication_role."""
    role = f"{database_name(legacy_db)}_noreplica"
    with connection(legacy_db) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
            sql.Identifier(conn.info.dbname), sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(role)))
        for table in ("contacts", "messages", "orders", "campaigns", "campaign_subscribers"):
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(table), sql.Identifier(role)))
        conn.execute("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$")
        conn.execute("CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()")
    yield psycopg.conninfo.make_conninfo(legacy_db, user=role)
    with connection(legacy_db) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_app_triggers_refuse_the_batched_way_for_a_role_that_cannot_skip_them(role_without_replica):
    _, batched = runner.check(role_without_replica, to=7, backfill="batched")
    refused = [f.line() for f in batched if f.verdict == "refuse"]
    assert any("triggers on orders" in line and "orders_touch" in line and "SET ON PARAMETER" in line
               for line in refused), refused
    _, instant = runner.check(role_without_replica, to=7, backfill="instant")
    assert not [f for f in instant if f.verdict == "refuse"]
    assert any("orders_touch" in f.text and f.verdict == "note" for f in instant)


def refusal_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.strip().startswith("REFUSE")]


def test_rows_in_the_way_of_a_future_key_are_refused_one_line_each_with_ids_only(legacy_db):
    """The app had only an index on phone_number and saved some customers twice (and two contacts share a thread):
    check names each key the plan will add with how many rows break it and their ids (never a phone number), exits 1
    and writes nothing; the keys the app's own unique indexes guarantee cost no scan and say nothing."""
    with connection(legacy_db) as conn:
        conn.execute("ALTER TABLE contacts DROP CONSTRAINT contacts_phone_number_key, "
                     "DROP CONSTRAINT contacts_thread_id_key")
        conn.execute("CREATE INDEX contacts_phone_idx ON contacts (phone_number)")
        conn.execute("INSERT INTO contacts (phone_number, name) SELECT phone_number, 'again' FROM contacts "
                     "WHERE id IN (3, 5, 7)")
        conn.execute("INSERT INTO contacts (phone_number, name) SELECT phone_number, 'thrice' FROM contacts "
                     "WHERE id = 3")
        conn.execute("UPDATE contacts SET thread_id = (SELECT thread_id FROM contacts WHERE id = 1) WHERE id = 2")
        phones = [r[0] for r in conn.execute("SELECT phone_number FROM contacts WHERE id IN (1, 2, 3, 5, 7)")]
    result = CliRunner().invoke(app, ["check", "--dsn", legacy_db, "--no-app-statements"])
    assert 1 == result.exit_code, result.output
    refused = refusal_lines(result.output)
    assert 2 == len(refused), result.output
    phone = next(line for line in refused if "unique_contact_per_user" in line)
    assert "phase 5" in phone and "7 rows share 3 values of phone_number" in phone, phone
    assert "3 = 501 = 504" in phone and "merge" in phone, phone
    thread = next(line for line in refused if "unique_thread_per_user" in line)
    assert "2 rows share 1 values of thread_id" in thread and "1 = 2" in thread, thread
    assert not [p for p in phones if p in result.output]
    with connection(legacy_db) as conn:
        assert conn.execute("SELECT to_regnamespace('tenant_migrate')").fetchone() == (None,)


def test_tenant_ids_in_the_way_of_phase_4_and_5_are_refused_before_either(legacy_db):
    """Rows a writer gave tenant ids by hand: a user that does not exist (phase 4's foreign keys would fail), then,
    once phase 4 is applied, a message of user 2 about a contact of user 1 (phase 5's composite reference): each is
    one refusal with its ids, before the phase runs. A row with an explicit NULL tenant cannot be written any more
    once phase 4 is applied (its NOT NULL)."""
    runner.migrate(legacy_db, to=3)
    with connection(legacy_db) as conn:
        conn.execute("UPDATE orders SET user_id = 42 WHERE id IN (4, 2)")
    refused = [f.line() for f in runner.check(legacy_db)[1] if f.verdict == "refuse"]
    assert [line for line in refused if line.startswith("REFUSE  phase 4 data for the tenant foreign keys of orders: "
                                                        "2 rows name a user_id not in users")
            and "e.g. ids 2, 4" in line], refused
    with connection(legacy_db) as conn:
        assert refused_after_the_flows_count(conn, 4, "orders", (0, 2)) == "data for the tenant foreign keys of orders"
        conn.execute("UPDATE orders SET user_id = 1 WHERE id IN (4, 2)")
    runner.migrate(legacy_db, to=4)
    with connection(legacy_db) as conn:
        with pytest.raises(psycopg.errors.NotNullViolation), conn.transaction():
            conn.execute("INSERT INTO contacts (phone_number, user_id) VALUES ('+10000000001', NULL)")
        conn.execute("INSERT INTO users (id, email) VALUES (2, 'two@example.com')")
        conn.execute("INSERT INTO chatbots (user_id, name) VALUES (2, 'two')")
        conn.execute("UPDATE messages SET user_id = 2, chatbot_id = (SELECT id FROM chatbots WHERE user_id = 2) "
                     "WHERE id = 9")
    with pytest.raises(ConflictError) as stop:
        runner.migrate(legacy_db)
    first = stop.value.findings[0]
    assert (5, "data for messages_contact_id_tenant_fkey on messages") == (first.phase, first.object)
    refused = [f.line() for f in runner.check(legacy_db)[1] if f.verdict == "refuse"]
    assert [line for line in refused if "data for messages_contact_id_tenant_fkey on messages: 1 rows of messages "
                                        "name in contact_id a row of contacts of another tenant (e.g. ids 9)" in line]
    with connection(legacy_db) as conn:
        assert conn.execute("SELECT count(*) FROM tenant_migrate.phase_runs WHERE phase = 5").fetchone() == (0,)
        assert refused_after_the_flows_count(conn, 5, "messages", (0, 1)) == first.object


def test_a_conflict_the_app_writes_after_the_flows_count_stops_phase_5_at_its_step_and_nothing_is_lost(legacy_db):
    """The check before phase 5 reads the flow's count after phase 4 (up to runner.REUSED_COUNTS_S old) instead of
    scanning: a message the app moves to another tenant in that window passes the check. Phase 5's own validation
    of its composite reference then stops it at that step, naming the constraint: the row is still there as the app
    wrote it, the phase resumes once the data is mended, and the rollback takes it back to phase 4."""
    runner.migrate(legacy_db, to=4)
    with connection(legacy_db) as conn:
        counted = table_stats(conn, tenants=True)
        assert not any(counted.off_tenant_1().values()), counted.tenants
        owner = conn.execute("SELECT user_id, chatbot_id FROM messages WHERE id = 9").fetchone()
        conn.execute("INSERT INTO users (id, email) VALUES (2, 'two@example.com')")
        conn.execute("INSERT INTO chatbots (user_id, name) VALUES (2, 'two')")
        conn.execute("UPDATE messages SET user_id = 2, chatbot_id = (SELECT id FROM chatbots WHERE user_id = 2) "
                     "WHERE id = 9")
        before = conn.execute("SELECT count(*), sum(hashtext(m::text)) FROM messages AS m").fetchone()
    with pytest.raises(PhaseFailed) as stop:
        runner.migrate(legacy_db, to=5, settings=Settings(counted=counted))
    assert 5 == stop.value.phase and "messages_contact_id_tenant_fkey" in str(stop.value), str(stop.value)
    with connection(legacy_db) as conn:
        assert before == conn.execute("SELECT count(*), sum(hashtext(m::text)) FROM messages AS m").fetchone()
        assert (2,) == conn.execute("SELECT user_id FROM messages WHERE id = 9").fetchone()
        conn.execute("UPDATE messages SET user_id = %s, chatbot_id = %s WHERE id = 9", owner)
    assert [5] == [outcome.phase for outcome in runner.migrate(legacy_db, to=5)]
    runner.rollback(legacy_db, to=4)
    with connection(legacy_db) as conn:
        assert not conn.execute("SELECT 1 FROM pg_constraint WHERE conname = 'messages_contact_id_tenant_fkey'"
                                ).fetchall()


def refused_after_the_flows_count(conn: psycopg.Connection, number: int, table: str, found: tuple[int, int]) -> str:
    """What the check before phase `number` refuses first, where the flow's count just before (its rows off tenant
    1, which the check reads instead of scanning) found `found` (without a tenant, on another tenant) in `table`."""
    counted = table_stats(conn, tenants=True)
    assert counted.tenants[table] == found, counted.tenants
    with pytest.raises(ConflictError) as stop:
        runner.check_plan(conn, [phase(number)], Settings(counted=counted))
    return stop.value.findings[0].object


def test_a_role_short_of_a_privilege_is_refused_before_any_change_naming_it(role_without_replica, legacy_db):
    """A role that owns the app's tables but may not create roles, where the tenant roles exist and are not its: the
    check names the grant it needs for phase 8; one table it does not own names that table; migrate stops there."""
    with connection(legacy_db) as conn:
        for name in ("tenant_app", "tenant_legacy", "tenant_owner"):
            conn.execute(f"DO $$ BEGIN CREATE ROLE {name} NOLOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
        conn.execute("ALTER TABLE campaigns OWNER TO CURRENT_USER")
    role = psycopg.conninfo.conninfo_to_dict(role_without_replica)["user"]
    refused = [f.line() for f in runner.check(role_without_replica)[1] if f.verdict == "refuse"]
    assert [line for line in refused if line.startswith("REFUSE  phase 1 preflight: role ")
            and "cannot alter table public.campaigns" in line], refused
    assert [line for line in refused if line.startswith("REFUSE  phase 8 preflight: ")
            and f"does not inherit tenant_owner and may not grant it to itself: have its admin run GRANT "
                f"tenant_owner TO {role}" in line], refused
    with pytest.raises(ConflictError) as stop:
        runner.migrate(role_without_replica)
    assert (1, "preflight") == (stop.value.findings[0].phase, stop.value.findings[0].object)
    with connection(legacy_db) as conn:
        assert conn.execute("SELECT to_regnamespace('tenant_migrate')").fetchone() == (None,)
        conn.execute(sql.SQL("ALTER TABLE campaigns OWNER TO {}").format(sql.Identifier(role)))


def test_keep_global_unique_of_a_value_phase_5_leaves_alone_is_one_error_line_before_anything():
    for command in (["check"], ["migrate", "--approval", "auto"]):
        result = CliRunner().invoke(app, [*command, "--dsn", "postgresql://nobody@127.0.0.1:1/none",
                                          "--keep-global-unique", "email"])
        assert 1 == result.exit_code
        assert ["error: --keep-global-unique email: phase 5 makes only phone_number, thread_id unique per tenant; "
                "name one of them"] == result.output.splitlines()


def test_a_table_or_column_the_app_drops_while_the_check_reads_is_skipped_not_a_crash(legacy_db):
    """A deploy beside the check: the soft-reference check lists the app's tables, then samples each (seen in CI
    with tests/test_concurrent_ddl.py: 'relation "public.deploy_t6" does not exist')."""
    with connection(legacy_db) as conn:
        assert soft_references.sampled(conn, "public", "dropped_by_a_deploy", "v") is None
        assert soft_references.sampled(conn, "public", "contacts", "dropped_by_a_deploy") is None
        assert soft_references.sampled(conn, "public", "contacts", "phone_number")  # and the session goes on
