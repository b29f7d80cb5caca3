"""The phase runner: applies and reverts phases exactly once, online, resumably, one runner at a time.

Plain functions; the Prefect tasks and the CLI call them. Three kinds of connection:
- the lock connection holds the session advisory lock for the whole run and writes the ledger
  (autocommit, so it never sits idle in a transaction that a CONCURRENTLY build would wait for);
- the work connection runs the steps, each in its own short transaction or in autocommit;
- a killed runner's connections die with it, so its lock is released by the server.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, sql

from tasks import faults, ledger
from tasks.db import LEGACY_TABLES, MigrationError, connect, describe, first_line, read_sql
from tasks.plan import Phase, Step, load_plan, phase

log = logging.getLogger("tenant_migrate.runner")

ADVISORY_LOCK_KEY = 0x74656E616E74  # "tenant"
TRANSIENT_ERRORS = (errors.LockNotAvailable, errors.DeadlockDetected, errors.SerializationFailure)
STATEMENT_TIMEOUT_ATTEMPTS = 3  # a statement cut by statement_timeout may pass at a quieter moment, rarely later
CONCURRENT_INDEX = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?(\w+)\"?", re.IGNORECASE)


@dataclass
class Settings:
    """How the runner behaves; the admin_* values reach phase 3's SQL as session settings."""

    lock_timeout_ms: int = 200
    lock_attempts: int = 15
    batch_size: int = 10_000
    vacuum_every: int = 20
    admin_email: str = "admin@swiftreplies.ai"
    admin_full_name: str = "Admin User"
    admin_company_name: str = "SwiftReplies Admin"
    admin_whatsapp_number: str = "YOUR_WHATSAPP_NUMBER"
    runner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}")
    progress: Callable[[str, int, int], None] | None = None  # (step, id reached, last id + 1) of a batched step


@dataclass
class PhaseOutcome:
    phase: int
    name: str
    direction: str
    status: str
    run_id: int
    seconds: float
    notes: list[str]
    resumed_from: int | None = None


@contextmanager
def migration_lock(dsn: str) -> Iterator[psycopg.Connection]:
    """Hold the migration's session advisory lock on this database, or fail at once."""
    conn = connect(dsn)
    try:
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()[0]:
            holder = conn.execute(read_sql("catalog/lock_holder.sql"), {"key": ADVISORY_LOCK_KEY}).fetchone()
            who = f"pid {holder[0]}, {holder[1] or 'unknown client'}, connected {holder[3]:%Y-%m-%d %H:%M:%S}" \
                if holder else "another session"
            raise MigrationError(f"another migration is running on {describe(dsn)} ({who}): "
                                 "wait for it to finish, or stop it")
        yield conn
    finally:
        conn.close()


def lock_is_free(conn: psycopg.Connection) -> bool:
    return conn.execute(read_sql("catalog/lock_holder.sql"), {"key": ADVISORY_LOCK_KEY}).fetchone() is None


def check_drift(conn: psycopg.Connection) -> None:
    """Refuse to go on when the SQL of an applied phase changed since it was applied."""
    for number, run in ledger.latest_runs(conn).items():
        if run["direction"] != "up" or run["status"] != "applied" or number > len(load_plan()):
            continue
        current = phase(number).files()
        changed = sorted(p for p in run["files"].keys() | current.keys() if run["files"].get(p) != current.get(p))
        if changed:
            raise MigrationError(
                f"drift: sql/{changed[0]} changed since phase {number} was applied (ledger run {run['id']}); "
                "put the file back as it was applied, or roll the phase back before changing it")


def preflight(conn: psycopg.Connection, number: int) -> None:
    """Read-only checks that stop a migration before it changes anything."""
    previous = ledger.latest_run(conn, number)
    resuming = bool(previous and previous["direction"] == "up" and previous["status"] != "applied")
    problems = [r[0] for r in conn.execute(read_sql("catalog/preflight.sql"), {"phase": number, "resuming": resuming})]
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise MigrationError(f"preflight: {problems[0]}{more}")


def _oldest_transactions(work: psycopg.Connection) -> str:
    rows = work.execute(read_sql("catalog/oldest_transactions.sql")).fetchall()
    return "; ".join(f"pid {r[0]} ({r[2] or r[1]}, {r[3]}, open {r[4]})" for r in rows) or "none now"


def _with_lock_retries(work: psycopg.Connection, attempt: Callable[[], Any], what: str, settings: Settings) -> Any:
    """Run attempt(); on a lock timeout, deadlock or serialization failure, back off and try again."""
    delay = 0.05
    for number in range(1, settings.lock_attempts + 1):
        try:
            return attempt()
        except TRANSIENT_ERRORS as exc:
            if number == settings.lock_attempts:
                raise MigrationError(
                    f"{what}: no lock after {number} attempts of {settings.lock_timeout_ms} ms "
                    f"({first_line(exc)}); longest open transactions: {_oldest_transactions(work)}") from None
            log.warning("%s: %s; retrying in %.2f s (attempt %d of %d)", what, first_line(exc), delay,
                        number + 1, settings.lock_attempts)
            if isinstance(exc, errors.LockNotAvailable):
                for pid, query, _ in work.execute(read_sql("catalog/cancel_autovacuum.sql")).fetchall():
                    log.warning("%s: cancelled autovacuum pid %s (%s), which PostgreSQL itself would cancel "
                                "for a lock waiter after deadlock_timeout", what, pid, query)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        except errors.QueryCanceled as exc:
            if "statement timeout" not in str(exc):
                raise
            timeout = work.execute("SHOW statement_timeout").fetchone()[0]
            if number >= STATEMENT_TIMEOUT_ATTEMPTS:
                raise MigrationError(
                    f"{what}: cut by statement_timeout ({timeout}) {number} times: this step needs longer on "
                    "this table; raise it for the migration (ALTER ROLE <role> SET statement_timeout = 0), "
                    "or for a backfill lower --batch-size") from None
            log.warning("%s: cut by statement_timeout (%s); retrying in %.2f s (attempt %d of %d)", what, timeout,
                        delay, number + 1, STATEMENT_TIMEOUT_ATTEMPTS)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _run_in_transaction(work: psycopg.Connection, statement: str, what: str, settings: Settings) -> None:
    def attempt() -> None:
        with work.transaction():
            work.execute("SELECT set_config('lock_timeout', %s, true)", (f"{settings.lock_timeout_ms}ms",))
            work.execute(statement)

    _with_lock_retries(work, attempt, what, settings)


def _run_autocommit(work: psycopg.Connection, statement: str, what: str, settings: Settings) -> None:
    """One statement outside a transaction; an INVALID index of the name it builds is dropped first."""
    index = CONCURRENT_INDEX.search(statement)

    def attempt() -> None:
        work.execute("SELECT set_config('lock_timeout', %s, false)", (f"{settings.lock_timeout_ms}ms",))
        if index:
            for schema, name in work.execute(read_sql("catalog/invalid_index.sql"), {"name": index.group(1)}):
                log.warning("%s: dropping INVALID index %s.%s left by an interrupted build", what, schema, name)
                work.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}.{}").format(
                    sql.Identifier(schema), sql.Identifier(name)))
        work.execute(statement)

    _with_lock_retries(work, attempt, what, settings)


def _run_statement(work: psycopg.Connection, statement: str, what: str, settings: Settings) -> None:
    runner = _run_autocommit if "CONCURRENTLY" in statement.upper() else _run_in_transaction
    runner(work, statement, what, settings)


def _run_batched(work: psycopg.Connection, lock_conn: psycopg.Connection, run_id: int, step: Step,
                 what: str, settings: Settings, notes: list[str]) -> None:
    """Run the step for consecutive id ranges, committing the position with each batch."""
    progress = ledger.step_progress(lock_conn, run_id, step.name)
    if progress and progress["target"] is not None:
        position, target = progress["position"], progress["target"]
        log.info("%s: resuming at id %s of %s", what, f"{position:,}", f"{target:,}")
    else:
        query = sql.SQL("SELECT min(id), max(id) FROM public.{}").format(sql.Identifier(step.table))
        position, target = work.execute(query).fetchone()
        if position is None:
            notes.append(f"{step.name}: {step.table} is empty")
            return
        ledger.set_step(lock_conn, run_id, step.name, "running", position, target)
    start, rows, batches, last_report = position, 0, 0, time.monotonic()
    while position <= target:
        high = position + settings.batch_size

        def attempt(low: int = position, high: int = high) -> int:
            with work.transaction():
                work.execute("SELECT set_config('lock_timeout', %s, true)", (f"{settings.lock_timeout_ms}ms",))
                changed = work.execute(step.sql, {"lo": low, "hi": high}).rowcount
                ledger.set_step(work, run_id, step.name, "running", high, target)
                faults.checkpoint(f"{what}:batch-uncommitted")
            return changed

        rows += _with_lock_retries(work, attempt, what, settings)
        faults.checkpoint(f"{what}:batch-committed")
        position, batches = high, batches + 1
        if batches % settings.vacuum_every == 0:
            work.execute(sql.SQL("VACUUM (SKIP_LOCKED) public.{}").format(sql.Identifier(step.table)))
        if settings.progress:
            settings.progress(step.name, min(position, target + 1), target + 1)
        if time.monotonic() - last_report > 5:
            log.info("%s: id %s of %s (%d%%)", what, f"{position:,}", f"{target:,}",
                     100 * (position - start) // max(1, target + 1 - start))
            last_report = time.monotonic()
    notes.append(f"{step.name}: {rows:,} rows of {step.table} in {batches} batches of {settings.batch_size:,}")


def _run_generated(work: psycopg.Connection, step: Step, what: str, settings: Settings, notes: list[str]) -> None:
    for statement, note in work.execute(step.sql).fetchall():
        if note:
            log.info("%s: %s", what, note)
            notes.append(note)
        if statement:
            log.info("%s: %s", what, " ".join(statement.split()))
            _run_statement(work, statement, what, settings)


def _run_step(work: psycopg.Connection, lock_conn: psycopg.Connection, run_id: int, step: Step,
              settings: Settings, notes: list[str]) -> None:
    what = f"{step.phase}/{step.direction}/{step.name}"
    log.info("%s (%s)", what, step.mode)
    if step.mode == "batched":
        _run_batched(work, lock_conn, run_id, step, what, settings, notes)
    elif step.mode == "generated":
        _run_generated(work, step, what, settings, notes)
    elif step.mode == "autocommit":
        _run_autocommit(work, step.sql, what, settings)
    else:
        _run_in_transaction(work, step.sql, what, settings)


def _session(dsn: str, settings: Settings) -> psycopg.Connection:
    work = connect(dsn)
    for name in ("admin_email", "admin_full_name", "admin_company_name", "admin_whatsapp_number"):
        work.execute("SELECT set_config(%s, %s, false)", (f"tenant_migrate.{name}", getattr(settings, name)))
    return work


def table_stats(conn: psycopg.Connection) -> dict[str, tuple[int, int | None]]:
    """(row count, max id) of each legacy table."""
    stats = {}
    for table in LEGACY_TABLES:
        query = sql.SQL("SELECT count(*), max(id) FROM public.{}").format(sql.Identifier(table))
        stats[table] = tuple(conn.execute(query).fetchone())
    return stats


def _resumable_run(lock_conn: psycopg.Connection, number: int, direction: str) -> int | None:
    """The unfinished run of this phase and direction to resume from, if any (marking a stale one)."""
    previous = ledger.latest_run(lock_conn, number)
    if previous is None:
        return None
    if previous["status"] == "running":  # we hold the lock, so its runner is gone
        ledger.mark_interrupted(lock_conn, previous["id"])
        previous["status"] = "interrupted"
    if previous["direction"] == direction and previous["status"] in ("interrupted", "failed"):
        return previous["id"]
    return None


def run_phase(dsn: str, lock_conn: psycopg.Connection, target: Phase, direction: str,
              settings: Settings) -> PhaseOutcome:
    """Apply (up) or revert (down) one phase; the caller holds the migration lock and checked order."""
    ledger.ensure(lock_conn)
    resumed_from = _resumable_run(lock_conn, target.number, direction)
    run_id = ledger.start_run(lock_conn, phase=target.number, name=target.name, direction=direction,
                              checksum=target.checksum(), files=target.files(), runner=settings.runner,
                              resumed_from=resumed_from)
    verb = "applying" if direction == "up" else "rolling back"
    log.info("phase %d %s: %s%s", target.number, target.name, verb,
             f" (resuming run {resumed_from})" if resumed_from else "")
    started, notes = time.monotonic(), []
    work = _session(dsn, settings)
    step = None
    try:
        if direction == "up" and resumed_from is None:
            ledger.snapshot_counts(lock_conn, run_id, table_stats(work))
        for step in target.steps(direction):
            done = ledger.step_progress(lock_conn, run_id, step.name)
            if done and done["status"] == "done":
                log.info("%s/%s/%s: already done", target.name, direction, step.name)
                continue
            faults.checkpoint(f"{step.phase}/{direction}/{step.name}:before")
            _run_step(work, lock_conn, run_id, step, settings, notes)
            ledger.set_step(lock_conn, run_id, step.name, "done")
            faults.checkpoint(f"{step.phase}/{direction}/{step.name}:done")
    except (MigrationError, psycopg.Error) as exc:
        where = f" at step {step.name}" if step else ""
        reason = f"phase {target.number} {target.name} {verb}{where} failed: {first_line(exc)}"
        ledger.finish_run(lock_conn, run_id, "failed", notes=notes, error=reason)
        raise MigrationError(f"{reason}. Progress is kept: run again to resume, or roll back") from None
    except BaseException:
        ledger.finish_run(lock_conn, run_id, "interrupted", notes=notes, error="interrupted")
        raise
    finally:
        work.close()
    status = "applied" if direction == "up" else "rolled_back"
    ledger.finish_run(lock_conn, run_id, status, notes=notes)
    seconds = round(time.monotonic() - started, 3)
    log.info("phase %d %s: %s in %.1f s", target.number, target.name, status, seconds)
    return PhaseOutcome(target.number, target.name, direction, status, run_id, seconds, notes, resumed_from)


def pending_phases(conn: psycopg.Connection, to: int | None) -> list[Phase]:
    """The phases to apply to reach `to` (default: the last), in order; refuses a gap in what is applied."""
    plan = load_plan()
    to = len(plan) if to is None else phase(to).number
    applied = ledger.applied_phases(conn)
    gaps = [n for n in applied if any(m not in applied for m in range(1, n))]
    if gaps:
        raise MigrationError(f"ledger: phase {min(gaps)} is applied but an earlier phase is not; "
                             "roll back to the last phase applied in order")
    return [p for p in plan if p.number <= to and p.number not in applied]


def check_rollback_target(to: int) -> None:
    if not 0 <= to <= len(load_plan()):
        raise MigrationError(f"cannot roll back to phase {to}: choose 0 (legacy schema) to {len(load_plan())}")


def phases_to_roll_back(conn: psycopg.Connection, to: int) -> list[Phase]:
    """Phases above `to` that are applied or partly applied, newest first."""
    check_rollback_target(to)
    latest = ledger.latest_runs(conn)
    touched = [n for n, r in latest.items()
               if n > to and not (r["direction"] == "down" and r["status"] == "rolled_back")]
    return [phase(n) for n in sorted(touched, reverse=True)]


def check_next(conn: psycopg.Connection, number: int) -> Phase:
    """Phase `number` may be applied now: every earlier phase is applied, and it is not."""
    target = phase(number)
    applied = ledger.applied_phases(conn)
    if number in applied:
        raise MigrationError(f"phase {number} {target.name} is already applied")
    missing = [n for n in range(1, number) if n not in applied]
    if missing:
        raise MigrationError(f"phase {number} cannot run before phase {missing[0]} {phase(missing[0]).name} "
                             "is applied: phases run in order")
    return target


def ready_to_apply(lock_conn: psycopg.Connection, number: int) -> Phase:
    """Every check before phase `number` is applied: order, read-only preflight, no drift. Writes nothing, so
    that a refused phase leaves the database exactly as it was."""
    target = check_next(lock_conn, number)
    preflight(lock_conn, number)
    check_drift(lock_conn)
    return target


def apply_phase(dsn: str, number: int, settings: Settings | None = None,
                lock_conn: psycopg.Connection | None = None) -> PhaseOutcome:
    """Apply one phase, in order, under the migration lock (taken here unless the caller holds it)."""
    settings = settings or Settings()
    if lock_conn is None:
        with migration_lock(dsn) as conn:
            return apply_phase(dsn, number, settings, conn)
    return run_phase(dsn, lock_conn, ready_to_apply(lock_conn, number), "up", settings)


def rollback_phase(dsn: str, number: int, settings: Settings | None = None,
                   lock_conn: psycopg.Connection | None = None) -> PhaseOutcome:
    """Revert one phase; only the newest applied (or partly applied) phase can be reverted."""
    settings = settings or Settings()
    if lock_conn is None:
        with migration_lock(dsn) as conn:
            return rollback_phase(dsn, number, settings, conn)
    candidates = phases_to_roll_back(lock_conn, 0)
    if not candidates or candidates[0].number != number:
        newest = f"phase {candidates[0].number}" if candidates else "nothing"
        raise MigrationError(f"phase {number} cannot be rolled back now: the newest applied phase is {newest}")
    check_drift(lock_conn)
    return run_phase(dsn, lock_conn, candidates[0], "down", settings)


def migrate(dsn: str, to: int | None = None, settings: Settings | None = None) -> list[PhaseOutcome]:
    """Apply every pending phase up to `to`, in order, skipping applied ones."""
    settings = settings or Settings()
    with migration_lock(dsn) as lock_conn:
        pending = pending_phases(lock_conn, to)
        if not pending:
            log.info("nothing to apply: phases up to %s are applied", to or len(load_plan()))
        return [apply_phase(dsn, p.number, settings, lock_conn) for p in pending]


def rollback(dsn: str, to: int, settings: Settings | None = None) -> list[PhaseOutcome]:
    """Revert phases down to `to` (0 = the legacy schema), newest first."""
    settings = settings or Settings()
    with migration_lock(dsn) as lock_conn:
        targets = phases_to_roll_back(lock_conn, to)
        if not targets:
            log.info("nothing to roll back: no phase above %d is applied", to)
        return [rollback_phase(dsn, p.number, settings, lock_conn) for p in targets]


def status(dsn: str) -> list[dict[str, Any]]:
    """One row per phase of the plan: its state in the ledger, with a stale 'running' run explained."""
    conn = connect(dsn)
    try:
        latest = ledger.latest_runs(conn)
        free = lock_is_free(conn)
    finally:
        conn.close()
    rows = []
    for p in load_plan():
        run = latest.get(p.number)
        state = "pending" if run is None else run["status"] if run["direction"] == "up" else \
            ("rolled back" if run["status"] == "rolled_back" else f"rollback {run['status']}")
        explanation = ""
        if run and run["status"] == "running" and free:
            state, explanation = "interrupted", "its runner stopped (killed or disconnected); migrate resumes it"
        elif run and run["error"]:
            explanation = run["error"]
        rows.append({"phase": p.number, "name": p.name, "state": state,
                     "started_at": run and run["started_at"], "duration_s": run and run["duration_s"],
                     "backup": run and run["backup_path"], "decision": run and run["decision"],
                     "approved_by": run and run["approved_by"], "run_id": run and run["id"],
                     "explanation": explanation})
    return rows
