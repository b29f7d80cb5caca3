"""tenant_migrate/lock.py: the migration's advisory lock lasts as long as the run, and a run that loses it stops."""

from __future__ import annotations

import time

import pytest
from psycopg import sql

from tenant_migrate import ledger, lock, runner
from tenant_migrate.db import connection
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import LockHeld, LockLost
from tenant_migrate.paths import read_sql
from tenant_migrate.plan import phase


def test_the_lock_session_outlives_an_idle_session_timeout_and_probes_with_keepalives(legacy_db):
    with connection(legacy_db) as conn:  # a DBA's setting that ends idle sessions after half a second
        conn.execute(sql.SQL("ALTER DATABASE {} SET idle_session_timeout = '500ms'").format(
            sql.Identifier(database_name(legacy_db))))
    with lock.migration_lock(legacy_db) as held:
        time.sleep(1.5)  # idle, as while the flow waits at a gate
        with connection(legacy_db) as other:
            assert not lock.lock_is_free(other)
        lock.confirm_held(held, "the next step")
        assert {"keepalives": "1", "keepalives_idle": "30"} == {
            k: held.info.get_parameters().get(k) for k in ("keepalives", "keepalives_idle")}


def holder_pid(dsn: str) -> int:
    with connection(dsn) as conn:
        return conn.execute(read_sql("catalog/lock_holder.sql"), {"key": lock.ADVISORY_LOCK_KEY}).fetchone()[0]


def test_a_run_whose_lock_session_dies_stops_before_its_next_batch(legacy_db):
    """The lock session is terminated alone during the messages backfill, just before its batch 2 (guards run
    before the step and before each batch): batch 2 runs (on the work session), batch 3 never starts."""
    runner.migrate(legacy_db, to=3, settings=runner.Settings(backfill="batched"))
    backfill = next(s for s in phase(4).steps("up", "batched") if s.mode == "batched" and s.table == "messages")
    seen: list[str] = []

    def kill_the_lock_session_before_batch_2(what: str) -> None:
        seen.append(what)
        if seen.count(f"{backfill.phase}/up/{backfill.name}") == 3:
            with connection(legacy_db) as conn:  # and waits until it is gone (up to 10 s): a busy machine
                conn.execute("SELECT pg_terminate_backend(%s, 10000)", (holder_pid(legacy_db),))  # ends it later

    settings = runner.Settings(batch_size=100, guards=(kill_the_lock_session_before_batch_2,))
    with pytest.raises(LockLost, match=f"stopped before 04_backfill_tenant_ids/up/{backfill.name}; "):
        runner.apply_phase(legacy_db, 4, settings)
    with connection(legacy_db) as conn:
        run = ledger.latest_run(conn, 4)
        progress = ledger.step_progress(conn, run["id"], backfill.name)
        first = conn.execute("SELECT min(id) FROM messages").fetchone()[0]
        assert lock.lock_is_free(conn)
    assert first + 2 * 100 == progress["position"]  # batches 1 and 2 committed, no other
    # the run is marked through a new connection, with why: no phase stays 'running' after its runner lost the lock
    assert ("interrupted", True) == (run["status"], "lost its advisory lock" in run["error"])
    shown = runner.status(legacy_db)[3]
    assert ("interrupted", run["id"], True) == (shown["state"], shown["run_id"], "lost its advisory lock" in
                                                shown["explanation"])
    with connection(legacy_db) as stale:  # as if the ledger had been out of reach, and another session held the lock
        stale.execute("UPDATE tenant_migrate.phase_runs SET status = 'running', error = NULL WHERE id = %s",
                      (run["id"],))
        stale.execute("SELECT pg_advisory_lock(%s)", (lock.ADVISORY_LOCK_KEY,))
        shown = runner.status(legacy_db)[3]
        assert ("interrupted", True) == (shown["state"], shown["explanation"].startswith(
            f"its runner lost the migration's advisory lock, which pid {stale.info.backend_pid} "))
        with pytest.raises(LockHeld) as held:
            runner.migrate(legacy_db, to=4)
        assert held.value.holder.startswith(f"pid {stale.info.backend_pid}, ")
    runner.migrate(legacy_db, to=4)  # and a plain re-run resumes it once the lock is free
    with connection(legacy_db) as conn:
        resumed = ledger.latest_run(conn, 4)
    assert ("applied", run["id"]) == (resumed["status"], resumed["resumed_from"])
