"""The guard (tenant_migrate/guard) beside the runner, against a real server: app sessions kept waiting by the
migration are seen and, over the budget, freed by cancelling the migration's statement (never the app's); batched
work pauses while a real streaming standby lags and goes on once it caught up; a sweep's scan waits while the app's
own statements run slower than usual; the ceiling stops the phase resumably, saying why."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from conftest import add_messages, app_role, caught_up, drop_app_roles, eventually, replay
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tenant_migrate import ledger, runner
from tenant_migrate.db import WORK_APPLICATION_NAME, connection, scalar
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import GuardStopped, MigrationError, PhaseFailed
from tenant_migrate.guard import Budgets, Guard
from tenant_migrate.guard.report import coverage, markdown, one_line
from tenant_migrate.plan import phase
from tenant_migrate.steps import Settings

BACKFILL = next(s.name for s in phase(4).steps("up", "batched") if s.mode == "batched" and s.table == "messages")
MESSAGES_STEP = f"04_backfill_tenant_ids/up/{BACKFILL}"
SWEEP = next(s.name for s in phase(4).steps("up", "instant") if s.mode == "batched" and s.table == "messages")
CONTACTS_STEP = "02_add_tenant_columns/up/01_contacts_columns"


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["result"] = fn()
        except Exception as exc:  # noqa: BLE001 - the test reads it
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def work_session_waits_on_a_lock(dsn: str) -> bool:
    with connection(dsn) as conn:
        return bool(scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                                 "AND wait_event_type = 'Lock'", (WORK_APPLICATION_NAME,)))


@contextmanager
def long_app_transaction(dsn: str) -> Iterator[psycopg.Connection]:
    """An app session with an open transaction that read contacts: it holds ACCESS SHARE until it ends."""
    with psycopg.connect(dsn, application_name="app-report") as conn:
        conn.execute("SELECT count(*) FROM contacts")
        yield conn


def app_insert(dsn: str) -> float:
    """The legacy app's new contact, on its own session; returns how long it took."""
    with psycopg.connect(dsn, autocommit=True, application_name="app-worker") as conn:
        started = time.monotonic()
        conn.execute("INSERT INTO contacts (phone_number, thread_id) VALUES ('+447700900999', 'thread-guard')")
        return time.monotonic() - started


def test_an_app_session_queued_behind_the_migration_shows_up_with_its_wait_and_statement(legacy_db):
    runner.migrate(legacy_db, to=1)
    guard = Guard(legacy_db, Budgets(lock_wait_ms=60_000)).start()
    with long_app_transaction(legacy_db) as report:
        thread, out = in_thread(lambda: runner.apply_phase(legacy_db, 2, guard.settings(
            Settings(lock_timeout_ms=1500, lock_attempts=30))))
        eventually(lambda: work_session_waits_on_a_lock(legacy_db), what="migration waiting for its lock")
        app_wait = app_insert(legacy_db)  # queued behind the migration's ACCESS EXCLUSIVE request until lock_timeout
        report_pid = report.info.backend_pid
        report.commit()
    thread.join(timeout=120)
    figures = guard.stop()
    assert "result" in out, out.get("error")
    longest = figures["longest_wait"]
    assert CONTACTS_STEP == longest["step"]
    assert longest["statement"].startswith("INSERT INTO contacts (phone_number, thread_id)")
    assert (WORK_APPLICATION_NAME, True) == (longest["blocker"], "ALTER TABLE" in longest["blocker_statement"])
    # a reading every 0.2 s sees the wait to within a few readings of what the app measured
    assert app_wait * 1000 - 700 <= longest["wait_ms"] <= app_wait * 1000 + 50
    assert [] == figures["cancels"]
    assert report_pid == figures["oldest_app_transaction"]["pid"]
    assert figures["wal_bytes"] > 0 and figures["samples"] > 5 and figures["whole_phase"]
    assert 1 <= figures["cost"]["queries_per_s"] <= 2 / figures["budgets"]["interval_s"]
    assert "INSERT INTO contacts" in markdown(figures, "phase 2") and "longest app wait" in one_line(figures)
    # the app's values stay out of the evidence: its statement as pg_stat_statements would keep it
    assert "INSERT INTO contacts (phone_number, thread_id) VALUES ($1, $2)" == longest["statement"]
    evidence = json.dumps(figures) + markdown(figures, "phase 2") + one_line(figures)
    assert "+447700900999" not in evidence and "thread-guard" not in evidence


def test_the_lock_wait_budget_cancels_the_migrations_statement_not_the_apps(legacy_db):
    runner.migrate(legacy_db, to=1)
    guard = Guard(legacy_db, Budgets(lock_wait_ms=300)).start()
    with long_app_transaction(legacy_db) as report:
        # without the guard the app would wait up to the migration's lock_timeout: 60 s
        thread, out = in_thread(lambda: runner.apply_phase(legacy_db, 2, guard.settings(
            Settings(lock_timeout_ms=60_000))))
        eventually(lambda: work_session_waits_on_a_lock(legacy_db), what="migration waiting for its lock")
        inserting, inserted = in_thread(lambda: app_insert(legacy_db))
        inserting.join(timeout=20)
        assert inserted.get("result") is not None, inserted  # done while the long transaction still holds its lock
        assert 1 == report.execute("SELECT 1").fetchone()[0]  # the app's own transaction was not cancelled
        assert "result" not in out  # the migration is still waiting: its statement was retried
        report.commit()
    thread.join(timeout=120)
    figures = guard.stop()
    assert "applied" == out["result"].status, out.get("error")
    cancel, *_ = figures["cancels"]
    assert (CONTACTS_STEP, True) == (cancel["step"], cancel["app_statement"].startswith("INSERT INTO contacts"))
    assert 300 < cancel["waited_ms"] and "ALTER TABLE" in cancel["migration_statement"]
    assert figures["waits_over_budget"] >= 1
    with connection(legacy_db) as conn:
        assert 1 == scalar(conn, "SELECT count(*) FROM contacts WHERE thread_id = 'thread-guard'")


# --- a real streaming standby ------------------------------------------------------------------------------


def backfill_position(dsn: str) -> int | None:
    with connection(dsn) as conn:
        return scalar(conn, "SELECT max(position) FROM tenant_migrate.step_progress "
                            "WHERE step = %s", (BACKFILL,))


@pytest.mark.slow
def test_batched_work_pauses_while_a_standby_lags_and_goes_on_once_it_caught_up(legacy_db, streaming_standby):
    runner.migrate(legacy_db, to=3, settings=Settings(backfill="batched"))  # phase 4 then backfills in batches
    add_messages(legacy_db, 100_000)
    eventually(lambda: caught_up(legacy_db, streaming_standby.name), what="standby caught up")
    said: list[str] = []
    budgets = Budgets(lag_s=60, lag_mb=1, ceiling=1000, max_pause_s=120)
    guard = Guard(legacy_db, budgets, notify=said.append).start()
    replay(streaming_standby.dsn, "pause")
    thread, out = in_thread(lambda: runner.apply_phase(legacy_db, 4, guard.settings(Settings(batch_size=1000))))
    eventually(lambda: any("paused" in s for s in said), what="pause")
    held = backfill_position(legacy_db)
    time.sleep(1.5)
    assert held == backfill_position(legacy_db)  # no batch while the standby is over budget
    assert "result" not in out
    replay(streaming_standby.dsn, "resume")
    thread.join(timeout=180)
    figures = guard.stop()
    assert "applied" == out["result"].status, out.get("error")
    assert MESSAGES_STEP == figures["pauses"][0]["step"] and figures["pauses"][0]["seconds"] >= 1.5
    assert f"{MESSAGES_STEP}: paused: standby {streaming_standby.name}@127.0.0.1 is" in said[0]
    assert said[1].startswith(f"{MESSAGES_STEP}: resumed after")
    step = next(s for s in figures["steps"] if s["step"] == MESSAGES_STEP)
    assert step["max_behind_go_bytes"] <= budgets.lag_bytes  # every batch started with the standby within budget
    assert figures["standbys"][f"{streaming_standby.name}@127.0.0.1"]["max_behind_bytes"] > budgets.lag_bytes
    with connection(legacy_db) as conn:
        assert 0 == scalar(conn, "SELECT count(*) FROM messages WHERE user_id IS NULL")


@pytest.mark.slow
@pytest.mark.parametrize(("budgets", "reason"), [
    (Budgets(lag_s=0.5, ceiling=4), "at the ceiling \\(4x the budget: 2 s or 1024 MB\\)"),
    (Budgets(lag_mb=0.5, max_pause_s=1, ceiling=1e6), "paused \\d s, longer than the 1 s allowed"),
], ids=["lag-ceiling", "pause-limit"])
def test_the_ceiling_stops_the_phase_resumably_saying_why(legacy_db, streaming_standby, budgets, reason):
    runner.migrate(legacy_db, to=3, settings=Settings(backfill="batched"))  # phase 4 then backfills in batches
    add_messages(legacy_db, 20_000)
    eventually(lambda: caught_up(legacy_db, streaming_standby.name), what="standby caught up")
    guard, paused = Guard(legacy_db, budgets).start(), []

    def lag_after_the_first_batch(step: str, done: int, total: int) -> None:
        """The standby falls behind during the backfill: replay stops and WAL piles up, over the budget."""
        if step == BACKFILL and not paused:
            paused.append(done)
            replay(streaming_standby.dsn, "pause")
            with connection(legacy_db) as conn:
                conn.execute("SELECT pg_logical_emit_message(false, 'guard-test', repeat('x', 600000))")
            eventually(lambda: budgets.over(guard.latest.standbys[0].lag_s, guard.latest.standbys[0].behind_bytes),
                       what="standby over budget")

    with pytest.raises(PhaseFailed, match=f"guard stopped the phase: .*{reason}") as stopped:
        runner.apply_phase(legacy_db, 4, guard.settings(Settings(batch_size=1000, progress=lag_after_the_first_batch)))
    figures = guard.stop()
    assert (4, True) == (stopped.value.phase, isinstance(stopped.value.cause, GuardStopped))
    assert figures["stopped"] and figures["stopped"] == stopped.value.cause.reason
    with connection(legacy_db) as conn:
        failed = ledger.latest_run(conn, 4)
    assert ("failed", True) == (failed["status"], figures["stopped"] in failed["error"])
    stopped_at = backfill_position(legacy_db)
    replay(streaming_standby.dsn, "resume")
    resumed: list[int] = []
    outcome = runner.apply_phase(legacy_db, 4, Settings(batch_size=1000, progress=lambda s, done, t: resumed.append(
        done) if s == BACKFILL else None))
    assert (failed["id"], "applied") == (outcome.resumed_from, outcome.status)
    assert stopped_at + 1000 == resumed[0]  # the next batch after the one where it stopped, not the first


def sweep_position(dsn: str) -> int | None:
    with connection(dsn) as conn:
        return scalar(conn, "SELECT max(position) FROM tenant_migrate.step_progress WHERE step = %s", (SWEEP,))


def test_a_sweep_waits_while_the_apps_statements_run_slower_than_usual_and_goes_on_after(legacy_db):
    """A real slow app, on a role of its own: its statement (one to pg_stat_statements whatever the argument) runs
    in about a millisecond, then in 300 ms from the moment phase 4 starts sweeping messages; the sweep's next chunk
    waits until the app is fast again, and the guard says so, with the figures."""
    runner.migrate(legacy_db, to=3)  # the instant way: phase 4 sweeps a table that holds explicit NULLs, in chunks
    with connection(legacy_db) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("UPDATE messages SET user_id = NULL WHERE id % 40 = 0")  # a writer that named it with NULL
    app = psycopg.connect(app_role(legacy_db, "app_pacing", tenant=False), autocommit=True,
                          application_name="app-worker")
    slow, once, said = threading.Event(), threading.Event(), []
    try:
        for _ in range(20):
            app.execute("SELECT pg_sleep(0.001)")
        guard = Guard(legacy_db, Budgets(app_latency_ms=50, max_pause_s=60), notify=said.append).start()

        def app_slows_down_once_the_sweep_scans(step: str, done: int, total: int) -> None:
            if step == SWEEP and not once.is_set():
                once.set()
                slow.set()
                eventually(lambda: guard.app_latency and guard.app_latency[1] > 50, what="the app seen slow")

        def the_app() -> None:
            slow.wait(timeout=120)
            while slow.is_set():
                app.execute("SELECT pg_sleep(0.3)")
            for _ in range(50):
                app.execute("SELECT pg_sleep(0.001)")

        calls, _ = in_thread(the_app)
        thread, out = in_thread(lambda: runner.apply_phase(legacy_db, 4, guard.settings(
            Settings(batch_size=500, progress=app_slows_down_once_the_sweep_scans))))
        eventually(lambda: any("paused" in s for s in said), what="pause")
        held = sweep_position(legacy_db)
        time.sleep(1.5)
        assert held == sweep_position(legacy_db)  # no chunk scanned while the app is slow
        slow.clear()
        calls.join(timeout=60)
        thread.join(timeout=120)
        figures = guard.stop()
    finally:
        slow.clear()
        app.close()
        drop_app_roles(legacy_db)
    assert "applied" == out["result"].status, out.get("error")
    pause, = figures["pauses"]
    assert (f"04_backfill_tenant_ids/up/{SWEEP}", True) == (pause["step"], pause["seconds"] >= 1.5)
    assert pause["reason"].startswith("the app's statements ran") and "over the budget (50 ms)" in pause["reason"]
    assert said[1].startswith(f"04_backfill_tenant_ids/up/{SWEEP}: resumed after")
    assert figures["app_latency"]["max_added_ms"] > 200 and not figures["app_latency"]["note"]
    assert "app statements slower than usual (pacing) | at most" in markdown(figures, "phase 4")
    with connection(legacy_db) as conn:
        assert 0 == scalar(conn, "SELECT count(*) FROM messages WHERE user_id IS NULL")


def test_a_role_that_cannot_see_other_sessions_is_said_not_to_watch_the_whole_phase(legacy_db):
    role = f"{database_name(legacy_db)}_plain"
    with connection(legacy_db) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    try:
        guard = Guard(make_conninfo(legacy_db, user=role)).start()
        figures = guard.stop()
    finally:
        with connection(legacy_db) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    assert (False, False) == (figures["visible"], figures["whole_phase"])
    assert "GRANT pg_monitor" in coverage(figures)


@pytest.mark.parametrize(("values", "message"), [
    ({"lock_wait_ms": 0}, "the app lock-wait budget must be at least 10 ms, not 0"),
    ({"lag_s": -1}, "the replica-lag budget must be above 0 s, not -1"),
    ({"ceiling": 0.5}, "the ceiling is a multiple of the budgets, at least 1, not 0.5"),
    ({"app_latency_ms": -1}, "the app-latency budget must be 0 \\(no pacing\\) or more ms, not -1"),
])
def test_bad_budgets_are_refused_in_one_line(values, message):
    with pytest.raises(MigrationError, match=f"^{message}: give a positive value") as refused:
        Budgets(**values)
    assert 1 == len(str(refused.value).splitlines())
