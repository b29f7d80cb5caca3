"""tenant_migrate/ownership.py: every object a statement creates is recorded as the migration's; nothing of the
app's may be dropped or changed, and a rollback may only take away what the migration created."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from tenant_migrate import ledger, ownership
from tenant_migrate.db import connect, connection
from tenant_migrate.errors import NotOwned
from tenant_migrate.steps import Run, Settings, _run_in_transaction, _run_statement


@pytest.fixture
def run_of() -> Iterator[Callable[[str, str], Run]]:
    """A run of phase 2 (up or down) on a database, as the runner makes it; its connections closed after."""
    made: list[Run] = []

    def make(dsn: str, direction: str) -> Run:
        work, lock_conn = connect(dsn), connect(dsn)
        ledger.ensure(lock_conn)
        run_id = ledger.start_run(lock_conn, phase=2, name="test", direction=direction, checksum="", files={},
                                  runner="test", resumed_from=None, backfill="instant")
        made.append(Run(run_id, 2, direction, work, lock_conn, Settings(lock_attempts=1)))
        return made[-1]

    yield make
    for run in made:
        run.work.close()
        run.lock_conn.close()


def columns(dsn: str, table: str) -> dict[str, str]:
    with connection(dsn) as conn:
        return {k[2]: v for k, v in ownership.catalog(conn).items() if k[0] == "column" and k[1] == table}


def test_what_a_statement_creates_is_recorded_and_a_down_step_releases_it(legacy_db, run_of):
    _run_statement(run_of(legacy_db, "up"), "ALTER TABLE contacts ADD COLUMN tags jsonb DEFAULT '[]'", "up")
    with connection(legacy_db) as conn:
        created = {(r["kind"], r["table"], r["name"]) for r in ownership.owned(conn) if not r["released"]}
    assert {("column", "contacts", "tags"), ("default", "contacts", "tags")} == created
    _run_statement(run_of(legacy_db, "down"), "ALTER TABLE contacts DROP COLUMN tags", "down")
    with connection(legacy_db) as conn:
        assert all(r["released"] for r in ownership.owned(conn))


@pytest.mark.parametrize(("statement", "problem"), [
    ("ALTER TABLE contacts DROP COLUMN name", "dropped the app's column contacts.name"),
    ("ALTER TABLE contacts ALTER COLUMN name SET DEFAULT 'x'", "changed the app's column contacts.name (added its"),
    ("ALTER TABLE contacts ALTER COLUMN name TYPE text", "changed the app's column contacts.name"),
    ("DROP INDEX messages_contact_id_idx", "dropped the app's index messages.messages_contact_id_idx"),
])
def test_a_statement_that_touches_the_apps_objects_is_stopped_and_undone(legacy_db, statement, problem, run_of):
    before = columns(legacy_db, "contacts")
    with pytest.raises(NotOwned) as stopped:
        _run_statement(run_of(legacy_db, "up"), statement, "up")
    assert stopped.value.problems[0].startswith(problem)
    assert before == columns(legacy_db, "contacts")
    with connection(legacy_db) as conn:
        assert ("index", "messages", "messages_contact_id_idx") in ownership.catalog(conn)


def test_a_rollback_may_not_drop_what_the_migration_did_not_create(legacy_db, run_of):
    with pytest.raises(NotOwned) as stopped:
        _run_statement(run_of(legacy_db, "down"), "ALTER TABLE contacts DROP COLUMN thread_id", "down")
    assert "dropped the app's column contacts.thread_id" == stopped.value.problems[0]
    assert "thread_id" in columns(legacy_db, "contacts")


def test_a_rollback_may_not_create_anything_but_what_it_gives_back(legacy_db, run_of):
    with pytest.raises(NotOwned) as stopped:
        _run_statement(run_of(legacy_db, "down"), "CREATE TABLE new_thing (id int)", "down")
    assert "created table new_thing, which a rollback must not" in stopped.value.problems


def test_an_index_built_concurrently_is_the_migrations_even_if_its_record_was_lost(legacy_db, run_of):
    run = run_of(legacy_db, "up")
    with connection(legacy_db) as conn:
        contacts = conn.execute("SELECT 'public.contacts'::regclass::oid").fetchone()[0]
        assert "absent" == ownership.before_build(conn, phase=2, run_id=run.run_id, direction="up",
                                                  name="idx_built_then_killed", table=contacts, what="build")
        conn.execute("CREATE INDEX idx_built_then_killed ON contacts (name)")  # the process dies here
    _run_statement(run_of(legacy_db, "up"), "SELECT 1", "the next statement")
    with connection(legacy_db) as conn:
        owned = {(r["kind"], r["name"], r["ownership"]) for r in ownership.owned(conn)}
    assert ("index", "idx_built_then_killed", "created") in owned
    assert not [o for o in owned if o[2] == "pending"]


def test_what_another_session_does_while_a_statement_waits_is_neither_the_migrations_nor_a_violation(legacy_db,
                                                                                                       run_of):
    """The app holds contacts' lock while it deploys (a table with rows, an index, one of its indexes dropped, a
    column of its own changed) and commits while the migration's statement waits for that lock: the statement's
    snapshot shows none of it, so nothing of it is recorded as the migration's, and nothing stops the statement."""
    with connection(legacy_db) as conn:
        conn.execute("CREATE TABLE app_own (id int, v text); CREATE INDEX app_own_v ON app_own (v)")
    run = run_of(legacy_db, "up")
    run.settings.lock_timeout_ms = 5000
    with psycopg.connect(legacy_db) as app:
        app.execute("LOCK TABLE contacts IN ACCESS EXCLUSIVE MODE")

        def deploy() -> None:
            time.sleep(0.5)  # the statement waits for contacts meanwhile
            app.execute("CREATE TABLE app_new (id int PRIMARY KEY); INSERT INTO app_new VALUES (1), (2); "
                        "CREATE INDEX app_new_i ON messages (status, id); DROP INDEX app_own_v; "
                        "ALTER TABLE app_own ALTER COLUMN v TYPE varchar(10)")
            app.commit()

        deployer = threading.Thread(target=deploy)
        deployer.start()
        _run_statement(run, "ALTER TABLE contacts ADD COLUMN tags jsonb", "up")
        deployer.join()
    with connection(legacy_db) as conn:
        created = {(r["kind"], r["table"], r["name"]) for r in ownership.owned(conn)}
        cat = ownership.catalog(conn)
    assert {("column", "contacts", "tags")} == created
    assert {("table", "", "app_new"), ("index", "messages", "app_new_i")} <= cat.keys()
    assert "character varying(10)" == cat[("column", "app_own", "v")]


def test_an_object_of_the_plans_name_that_another_session_made_stops_the_statement(legacy_db, run_of):
    """IF NOT EXISTS skips what is there: that is fine for what the migration made or adopted, but an object the app
    made (here before the statement, as it could while the statement waited) is not the migration's."""
    with connection(legacy_db) as conn:
        conn.execute("CREATE TABLE thing (id int); CREATE INDEX idx_thing ON contacts (name)")
    run = run_of(legacy_db, "up")
    with pytest.raises(NotOwned) as stopped:
        _run_statement(run, "CREATE TABLE IF NOT EXISTS thing (id int)", "up")
    assert ['relation "thing" already exists, skipping'] == stopped.value.problems
    with pytest.raises(NotOwned) as stopped:
        _run_statement(run, "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_thing ON contacts (name)", "up")
    assert ["would build index idx_thing, which another session made (it is not the migration's)"] \
        == stopped.value.problems
    with pytest.raises(NotOwned) as stopped:
        _run_statement(run, "DROP INDEX CONCURRENTLY IF EXISTS public.idx_thing", "up")
    assert ["dropped the app's index contacts.idx_thing"] == stopped.value.problems
    _run_statement(run, "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_mine ON contacts (name)", "up")
    _run_statement(run, "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_mine ON contacts (name)", "up")  # resumed
    with connection(legacy_db) as conn:
        owned = {(r["kind"], r["name"], r["ownership"]) for r in ownership.owned(conn)}
        assert ("index", "contacts", "idx_thing") in ownership.catalog(conn)
    assert {("index", "idx_mine", "created")} == owned


REBUILD = ("CREATE TABLE notes_new (id {type}); INSERT INTO notes_new SELECT id FROM notes; DROP TABLE notes; "
           "ALTER TABLE notes_new RENAME TO notes")


def test_a_step_that_rebuilds_tables_must_leave_them_as_they_were_and_the_ledger_follows_them(legacy_db, run_of):
    """A step headed `rebuilds: tables` (phase 9's undistribute_table) may give tables new identities under their own
    names, nothing else; the ledger's identities of the app's objects then follow them. Without the header, a rebuild
    drops the app's table."""
    with connection(legacy_db) as conn:
        conn.execute("CREATE TABLE notes (id integer); INSERT INTO notes VALUES (1)")
        ledger.ensure(conn)
        ownership.record_baseline(conn)
    run = run_of(legacy_db, "down")
    with pytest.raises(NotOwned) as stopped:
        _run_in_transaction(run, [REBUILD.format(type="integer")], "down", alone=False)
    assert "dropped the app's table notes" in stopped.value.problems
    with pytest.raises(NotOwned) as stopped:
        _run_in_transaction(run, [REBUILD.format(type="bigint")], "down", alone=False, rebuilds=True)
    assert ["rebuilt column notes.id as 'bigint', not as it was ('integer')"] == stopped.value.problems
    _run_in_transaction(run, [REBUILD.format(type="integer")], "down", alone=False, rebuilds=True)
    with connection(legacy_db) as conn:
        assert [(1,)] == conn.execute("SELECT id FROM notes").fetchall()
        assert conn.execute("SELECT b.objid = 'public.notes'::regclass FROM tenant_migrate.baseline_objects AS b "
                            "WHERE b.kind = 'table' AND b.name = 'notes'").fetchone()[0]
