"""The phase runner: order, exactly-once, resume, drift, one runner at a time, live writers, bad input."""

import threading
import time

import psycopg
import pytest
from typer.testing import CliRunner

from tenant_migrate import ledger, runner
from tenant_migrate.cli.main import app
from tenant_migrate.db import catalog_shape, connection, row_counts
from tenant_migrate.errors import ConflictError, Drift, LockHeld, OutOfOrder
from tenant_migrate.plan import default_target, load_plan

LAST = default_target()  # where migrate stops unless told (phase 9 is Citus only)


def state(dsn: str) -> tuple:
    with connection(dsn) as conn:
        return catalog_shape(conn), row_counts(conn), ledger.exists(conn)


def test_migrate_applies_every_phase_once_and_a_rerun_skips_them(legacy_db):
    outcomes = runner.migrate(legacy_db)
    assert list(range(1, LAST + 1)) == [o.phase for o in outcomes]
    assert {"applied"} == {o.status for o in outcomes}
    assert [] == runner.migrate(legacy_db)
    assert all("applied" == row["state"] for row in runner.status(legacy_db) if row["phase"] <= LAST)


def test_rollback_to_zero_returns_the_legacy_schema_and_data(legacy_db):
    before = state(legacy_db)[:2]
    runner.migrate(legacy_db)
    outcomes = runner.rollback(legacy_db, 0)
    assert list(range(LAST, 0, -1)) == [o.phase for o in outcomes]
    assert before == state(legacy_db)[:2]
    assert all("rolled back" == row["state"] for row in runner.status(legacy_db) if row["phase"] <= LAST)


def test_a_phase_out_of_order_is_refused_and_changes_nothing(legacy_db):
    before = state(legacy_db)
    with pytest.raises(OutOfOrder) as refused:
        runner.apply_phase(legacy_db, 3)
    assert (3, 1) == (refused.value.phase, refused.value.first)
    assert before == state(legacy_db)


def test_only_the_newest_phase_can_be_rolled_back(legacy_db):
    runner.migrate(legacy_db, to=2)
    with pytest.raises(OutOfOrder) as refused:
        runner.rollback_phase(legacy_db, 1)
    assert (1, 2) == (refused.value.phase, refused.value.first)


def test_a_second_runner_fails_at_once_naming_the_first(legacy_db):
    with runner.migration_lock(legacy_db):
        started = time.monotonic()
        with pytest.raises(LockHeld) as held:
            runner.migrate(legacy_db)
        assert held.value.holder.startswith("pid ")
        assert time.monotonic() - started < 5
    assert runner.migrate(legacy_db, to=1)  # the lock is free again once its holder is gone


def test_drift_of_an_applied_phase_is_refused_naming_the_file(legacy_db):
    runner.migrate(legacy_db, to=1)
    with connection(legacy_db) as conn:
        path = next(iter(ledger.latest_run(conn, 1)["files"]))
        conn.execute("UPDATE tenant_migrate.phase_runs SET files = jsonb_set(files, ARRAY[%s], '\"0\"') "
                     "WHERE phase = 1", (path,))
    with pytest.raises(Drift) as drifted:
        runner.migrate(legacy_db)
    assert (1, path) == (drifted.value.phase, drifted.value.file)


def test_an_interrupted_batched_backfill_resumes_where_it_stopped(legacy_db):
    runner.migrate(legacy_db, to=3, settings=runner.Settings(backfill="batched"))
    seen = []

    def stop_after_three_batches(step: str, done: int, total: int) -> None:
        seen.append((step, done))
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        runner.migrate(legacy_db, to=4, settings=runner.Settings(batch_size=100, backfill="batched",
                                                                 progress=stop_after_three_batches))
    with connection(legacy_db) as conn:
        assert "interrupted" == ledger.latest_run(conn, 4)["status"]
    resumed = []
    outcome, = runner.migrate(legacy_db, to=4, settings=runner.Settings(
        batch_size=100, backfill="batched", progress=lambda step, done, total: resumed.append((step, done))))
    assert outcome.resumed_from is not None
    assert resumed[0] == (seen[-1][0], seen[-1][1] + 100)  # the next batch, not the first
    with connection(legacy_db) as conn:
        assert 0 == conn.execute("SELECT count(*) FROM contacts WHERE user_id IS NULL").fetchone()[0]


def test_a_stale_running_entry_is_explained_and_resumed(legacy_db):
    runner.migrate(legacy_db, to=1)
    with connection(legacy_db) as conn:
        conn.execute("UPDATE tenant_migrate.phase_runs SET status = 'running', direction = 'up' "
                     "WHERE id = (SELECT max(id) FROM tenant_migrate.phase_runs)")
        conn.execute("DELETE FROM tenant_migrate.step_progress WHERE run_id = "
                     "(SELECT max(id) FROM tenant_migrate.phase_runs)")
    row = runner.status(legacy_db)[0]
    assert ("interrupted", True) == (row["state"], "migrate resumes it" in row["explanation"])
    assert 1 == runner.migrate(legacy_db, to=1)[0].phase
    with connection(legacy_db) as conn:
        statuses = [r["status"] for r in ledger.history(conn)]
    assert ["interrupted", "applied"] == statuses


def test_legacy_writers_keep_working_and_land_on_the_admin_tenant(legacy_db):
    stop, written, failures = threading.Event(), [], []

    def legacy_writer() -> None:
        with psycopg.connect(legacy_db, autocommit=True) as conn:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    cid = conn.execute("INSERT INTO contacts (phone_number, thread_id) VALUES (%s, %s) RETURNING id",
                                       (f"+1999{n:07d}", f"thread-{n}")).fetchone()[0]
                    conn.execute("INSERT INTO messages (contact_id, message_id, direction, message_type, content_text, "
                                 "status, sent_at) VALUES (%s, %s, 'incoming', 'text', 'hi', 'delivered', NOW())",
                                 (cid, f"wamid.{n}"))
                    written.append(cid)
                except psycopg.Error as exc:
                    failures.append(str(exc))
                time.sleep(0.005)

    before = state(legacy_db)[1]
    writer = threading.Thread(target=legacy_writer)
    writer.start()
    try:
        runner.migrate(legacy_db, settings=runner.Settings(batch_size=500))
    finally:
        stop.set()
        writer.join()
    assert [] == failures
    assert len(written) > 10
    with connection(legacy_db) as conn:
        counts = row_counts(conn)
        for table in ("contacts", "messages", "orders", "campaigns"):
            nulls = conn.execute(f"SELECT count(*) FROM {table} WHERE user_id IS NULL OR chatbot_id IS NULL")
            assert 0 == nulls.fetchone()[0], table
    assert before["contacts"] + len(written) == counts["contacts"]
    assert before["messages"] + len(written) == counts["messages"]


def test_a_missing_legacy_table_stops_preflight_and_changes_nothing(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute("DROP TABLE campaign_subscribers")
    before = state(legacy_db)
    with pytest.raises(ConflictError) as refused:
        runner.migrate(legacy_db)  # the whole-plan check runs each phase's preflight first
    first = refused.value.findings[0]
    assert (1, "preflight", True) == (first.phase, first.object, "campaign_subscribers" in first.text)
    assert before == state(legacy_db)


def test_an_unexpected_tenant_column_stops_the_check_and_changes_nothing(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute("ALTER TABLE contacts ADD COLUMN user_id text")
    before = state(legacy_db)
    with pytest.raises(ConflictError) as refused:
        runner.migrate(legacy_db)
    first = refused.value.findings[0]
    assert (2, "column contacts.user_id", "refuse") == (first.phase, first.object, first.verdict)
    assert before == state(legacy_db)


@pytest.mark.flow
def test_cli_migrate_status_rollback(legacy_db):
    cli = CliRunner()
    result = cli.invoke(app, ["migrate", "--dsn", legacy_db, "--to", "2", "--approval", "auto", "--no-backup"])
    assert 0 == result.exit_code, result.output
    assert "02_add_tenant_columns" in result.output
    result = cli.invoke(app, ["status", "--dsn", legacy_db, "--json"])
    assert 0 == result.exit_code
    assert '"state": "applied"' in result.output
    owns = [line for line in cli.invoke(app, ["status", "--dsn", legacy_db]).output.splitlines() if "owns" in line]
    assert 2 == len(owns) and all(" created" in line for line in owns), owns  # phases 1 and 2 hold what they made
    result = cli.invoke(app, ["rollback", "--dsn", legacy_db, "--to", "0", "--approval", "auto", "--no-backup"])
    assert 0 == result.exit_code, result.output
    assert " created" not in cli.invoke(app, ["status", "--dsn", legacy_db]).output  # all of it undone
    result = cli.invoke(app, ["migrate", "--dsn", legacy_db, "--to", "99", "--approval", "auto"])
    expected = f"error: there is no phase 99: the plan has phases 1 to {len(load_plan())}\n"
    assert (1, expected) == (result.exit_code, result.output)


def test_manual_approval_without_a_prefect_server_is_a_clear_error(legacy_db, monkeypatch):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    result = CliRunner().invoke(app, ["migrate", "--dsn", legacy_db, "--approval", "manual"],
                                env={"PREFECT_API_URL": ""})
    assert 1 == result.exit_code
    assert result.output.startswith("error: --approval manual needs a Prefect server")


def test_plan_prints_sql_and_locks_without_a_database():
    result = CliRunner().invoke(app, ["plan", "--phase", "5"], env={"DATABASE_URL": "postgresql://nowhere:1/x"})
    assert 0 == result.exit_code
    assert "locks:" in result.output and "ON CONFLICT (phone_number)" in result.output
