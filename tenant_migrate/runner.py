"""The phase runner: applies and reverts phases exactly once, online, resumably, one runner at a time.

Plain functions; the Prefect tasks and the CLI call them. Three kinds of connection:
- the lock connection holds the session advisory lock for the whole run and writes the ledger
  (autocommit, so it never sits idle in a transaction that a CONCURRENTLY build would wait for);
- the work connection runs the steps (tenant_migrate.steps), each in its own short transaction or in autocommit;
- a killed runner's connections die with it, so its lock is released by the server.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from typing import Any

import psycopg

from tenant_migrate import faults, forecast, ledger, ownership
from tenant_migrate.check import soft_references
from tenant_migrate.check.objects import Finding
from tenant_migrate.check.review import adopted, require_no_refusal, review
from tenant_migrate.db import Counts, connect, connection, table_stats
from tenant_migrate.errors import Drift, LockLost, MigrationError, OutOfOrder, PhaseFailed, PreflightRefused, first_line
from tenant_migrate.guard import store
from tenant_migrate.lock import lock_guard, lock_holder, migration_lock
from tenant_migrate.paths import read_sql
from tenant_migrate.pending import drive, pending_phases
from tenant_migrate.plan import BACKFILLS, Phase, default_target, load_plan, phase
from tenant_migrate.pooler import require_session
from tenant_migrate.steps import Run, Settings, run_step, work_session

log = logging.getLogger("tenant_migrate.runner")
# How old the flow's count after the phase before may be to serve as the next apply's snapshot. What the app
# deletes between the two counts the row-count check would take for rows the phase lost; what it adds, the check
# ignores (it compares the rows up to the snapshot's max id). An approval that took longer counts again.
REUSED_COUNTS_S = 30.0


@dataclass
class PhaseOutcome:
    phase: int
    name: str
    direction: str
    status: ledger.RunStatus
    run_id: int
    seconds: float
    notes: list[str]
    resumed_from: int | None = None


def check_drift(conn: psycopg.Connection) -> None:
    """Refuse to go on when the SQL of an applied phase changed since it was applied."""
    for number, run in ledger.latest_runs(conn).items():
        if run["direction"] != "up" or run["status"] != "applied" or number > len(load_plan()):
            continue
        current = phase(number).files()
        changed = sorted(p for p in run["files"].keys() | current.keys() if run["files"].get(p) != current.get(p))
        if changed:
            raise Drift(
                f"drift: sql/{changed[0]} changed since phase {number} was applied (ledger run {run['id']}); "
                "put the file back as it was applied, or roll the phase back before changing it",
                phase=number, file=changed[0])


def preflight(conn: psycopg.Connection, number: int) -> None:
    """Read-only checks that stop a migration before it changes anything."""
    previous = ledger.latest_run(conn, number)
    resuming = bool(previous and previous["direction"] == "up" and previous["status"] != "applied")
    problems = [r[0] for r in conn.execute(read_sql("catalog/preflight.sql"), {"phase": number, "resuming": resuming})]
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise PreflightRefused(f"preflight: {problems[0]}{more}", phase=number, problems=problems)


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


def backfill_way(conn: psycopg.Connection, requested: str | None) -> str:
    """The way through phases 2-4 for this database: the one phase 2 went, else the one asked for (instant by
    default). Asking for the other way once phase 2 went one is refused."""
    if requested is not None and requested not in BACKFILLS:
        raise MigrationError(f"--backfill must be one of {', '.join(BACKFILLS)}, not {requested!r}")
    recorded = ledger.backfill_way(conn)
    if recorded is None:
        return requested or BACKFILLS[0]
    if requested is not None and requested != recorded:
        raise MigrationError(f"--backfill {requested}: phase 2 of this database went the {recorded} way, and phases "
                             f"3-4 must go on the same way; roll back to phase 1 to choose again")
    return recorded


def run_phase(dsn: str, lock_conn: psycopg.Connection, target: Phase, direction: str,
              settings: Settings, adopted: ownership.Catalog | None = None,
              warnings: list[str] | None = None) -> PhaseOutcome:
    """Apply (up) or revert (down) one phase; the caller holds the migration lock and checked order (and, for an
    apply, passes the app objects the phase adopts and the check's warnings about it, which become notes of the
    run: the ledger's, the gate's). Before every step and every batch the lock is
    confirmed: a lost lock stops the phase at once (it stays resumable)."""
    settings = replace(settings, guards=(lock_guard(lock_conn), *settings.guards))
    ledger.ensure(lock_conn)
    way = backfill_way(lock_conn, settings.backfill)
    resumed_from = _resumable_run(lock_conn, target.number, direction)
    run_id = ledger.start_run(lock_conn, phase=target.number, name=target.name, direction=direction,
                              checksum=target.checksum(), files=target.files(), runner=settings.runner,
                              resumed_from=resumed_from, backfill=way)
    verb = "applying" if direction == "up" else "rolling back"
    started = time.monotonic()
    run = Run(run_id, target.number, direction, work_session(dsn, settings), lock_conn, settings, list(warnings or []))
    expected = _forecast_start(run, target, way)
    log.info("phase %d %s: %s%s%s", target.number, target.name, verb,
             f" (resuming run {resumed_from})" if resumed_from else "",
             f"; forecast: {expected.line()}" if expected else "")
    notes, step = run.notes, None
    try:
        _first_records(run, resumed_from, adopted)
        for step in target.steps(direction, way):
            done = ledger.step_progress(lock_conn, run_id, step.name)
            if done and done["status"] == "done":
                log.info("%s/%s/%s: already done", target.name, direction, step.name)
                continue
            faults.checkpoint(f"{step.phase}/{direction}/{step.name}:before")
            run_step(run, step)
            ledger.set_step(lock_conn, run_id, step.name, "done")
            faults.checkpoint(f"{step.phase}/{direction}/{step.name}:done")
    except (MigrationError, psycopg.Error) as exc:
        if lock_conn.closed and not isinstance(exc, LockLost):  # a ledger write met the dead lock session first
            exc = LockLost(f"the migration lost its advisory lock (its session ended: {first_line(exc)}), so "
                           "another migration could start: stopped; check `tenant-migrate status`, then run again "
                           "to resume")
        if isinstance(exc, LockLost):
            lost = f"phase {target.number} {target.name}: {exc}"
            record_lost_lock(dsn, run_id, lost)
            raise LockLost(lost) from None
        where = f" at step {step.name}" if step else ""
        reason = f"phase {target.number} {target.name} {verb}{where} failed: {first_line(exc)}"
        ledger.finish_run(lock_conn, run_id, "failed", notes=notes, error=reason)
        raise PhaseFailed(f"{reason}. Progress is kept: run again to resume, or roll back", phase=target.number,
                          step=step.name if step else None, cause=exc) from None
    except BaseException:
        if not lock_conn.closed:
            ledger.finish_run(lock_conn, run_id, "interrupted", notes=notes, error="interrupted")
        raise
    finally:
        run.work.close()
    status: ledger.RunStatus = "applied" if direction == "up" else "rolled_back"
    ledger.finish_run(lock_conn, run_id, status, notes=notes)
    seconds = round(time.monotonic() - started, 3)
    log.info("phase %d %s: %s in %.1f s", target.number, target.name, status, seconds)
    return PhaseOutcome(target.number, target.name, direction, status, run_id, seconds, notes, resumed_from)


def _first_records(run: Run, resumed_from: int | None, adopted: ownership.Catalog | None) -> None:
    """What the ledger keeps before a phase's first step: the app's catalog before phase 1 (its baseline) and the
    row counts a new apply starts from (the flow's count after the phase before, when it is at most
    REUSED_COUNTS_S old: one count per phase); the app objects the phase adopts."""
    if run.direction == "up" and resumed_from is None:
        if run.phase == 1:
            ownership.record_baseline(run.lock_conn)
        counted = fresh(run.settings.counted) or table_stats(run.work)
        ledger.snapshot_counts(run.lock_conn, run.run_id, counted.stats)
    if adopted:
        ownership.adopt(run.lock_conn, run.phase, run.run_id, adopted)


def fresh(counted: Counts | None) -> Counts | None:
    """The flow's count after the phase before, while it may stand for a count now (REUSED_COUNTS_S)."""
    return counted if counted is not None and counted.age() <= REUSED_COUNTS_S else None


def record_lost_lock(dsn: str, run_id: int, reason: str) -> None:
    """Mark the run interrupted, saying why, through a new connection (the lock's session is gone, or no longer
    holds the lock): only while it is still 'running', so a run that another migration took over meanwhile is
    left as that one marked it. If even that fails, `status` reads a 'running' run whose lock is free as
    interrupted."""
    try:
        with connection(dsn) as conn:
            ledger.mark_interrupted(conn, run_id, reason)
    except (MigrationError, psycopg.Error) as exc:
        log.warning("run %d could not be marked interrupted: %s", run_id, first_line(exc))
def _forecast_start(run: Run, target: Phase, way: str) -> forecast.Forecast | None:
    """Record the size the run starts at and its forecast (the ledger keeps it beside the run's actual time); a
    forecast that cannot be made is a warning, never a reason to stop the phase."""
    try:
        at = forecast.now(run.lock_conn)
        made = forecast.forecast(run.lock_conn, target, run.direction, way, run.settings.rates,
                                 run.settings.lock_timeout_ms, at)
        forecast.record_start(run.lock_conn, run.run_id, at.size_bytes, made)
    except (psycopg.Error, ValueError, OSError) as exc:
        log.warning("phase %d: no forecast (%s)", target.number, first_line(exc))
        return None
    return made


def check_rollback_target(to: int) -> None:
    if not 0 <= to <= len(load_plan()):
        raise MigrationError(f"cannot roll back to phase {to}: choose 0 (legacy schema) to {len(load_plan())}")


def phases_to_roll_back(conn: psycopg.Connection, to: int) -> list[Phase]:
    """Phases above `to` that are applied or partly applied, newest first; refuses, before any of them is rolled
    back, when the ledger says one of them created what it cannot have created (ownership.refuse_untrusted)."""
    check_rollback_target(to)
    latest = ledger.latest_runs(conn)
    touched = sorted((n for n, r in latest.items()
                      if n > to and not (r["direction"] == "down" and r["status"] == "rolled_back")), reverse=True)
    if touched:
        ownership.refuse_untrusted(conn, touched)
    return [phase(n) for n in touched]


def check_next(conn: psycopg.Connection, number: int) -> Phase:
    """Phase `number` may be applied now: every earlier phase is applied, and it is not."""
    target = phase(number)
    applied = ledger.applied_phases(conn)
    if number in applied:
        raise MigrationError(f"phase {number} {target.name} is already applied")
    missing = [n for n in range(1, number) if n not in applied]
    if missing:
        raise OutOfOrder(f"phase {number} cannot run before phase {missing[0]} {phase(missing[0]).name} "
                         "is applied: phases run in order", phase=number, first=missing[0])
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
    return apply_checked(dsn, lock_conn, ready_to_apply(lock_conn, number), settings)


def check(dsn: str, to: int | None = None, backfill: str | None = None,
          keep_global_unique: tuple[str, ...] = ()) -> tuple[str, list[Finding]]:
    """The whole-plan check of the phases still to apply up to `to`, read-only: (the way through phases 2-4,
    every finding)."""
    soft_references.check_kept(keep_global_unique)
    conn = connect(dsn)
    try:
        require_session(conn, dsn)
        way = backfill_way(conn, backfill)
        return way, review(conn, pending_phases(conn, to), way, keep_global_unique)
    finally:
        conn.close()


def check_plan(lock_conn: psycopg.Connection, phases: list[Phase], settings: Settings) -> list[Finding]:
    """The whole-plan check of `phases`: refuses, before any change, if one of them would touch what it does
    not own."""
    soft_references.check_kept(settings.keep_global_unique)
    counted = fresh(settings.counted)
    findings = review(lock_conn, phases, backfill_way(lock_conn, settings.backfill), settings.keep_global_unique,
                      counted.tenants if counted else None)
    require_no_refusal(findings)
    return findings


def apply_checked(dsn: str, lock_conn: psycopg.Connection, target: Phase, settings: Settings) -> PhaseOutcome:
    """Check phase `target` against the catalog, then apply it, adopting what the check adopted."""
    findings = check_plan(lock_conn, [target], settings)
    return run_phase(dsn, lock_conn, target, "up", settings, adopted(findings, target.number),
                     [f.line() for f in findings if f.verdict == "warn" and f.phase == target.number])


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
        raise OutOfOrder(f"phase {number} cannot be rolled back now: the newest applied phase is {newest}",
                         phase=number, first=candidates[0].number if candidates else None)
    check_drift(lock_conn)
    return run_phase(dsn, lock_conn, candidates[0], "down", settings)


def migrate(dsn: str, to: int | None = None, settings: Settings | None = None) -> list[PhaseOutcome]:
    """Apply every pending phase up to `to`, in order, skipping applied ones."""
    chosen = settings or Settings()
    with migration_lock(dsn) as lock_conn:

        def check(pending: list[Phase]) -> None:
            if not pending:
                log.info("nothing to apply: phases up to %s are applied", to or default_target())
            check_plan(lock_conn, pending, chosen)

        return drive(lock_conn, to, check, lambda target: apply_phase(dsn, target.number, chosen, lock_conn))


def rollback(dsn: str, to: int, settings: Settings | None = None) -> list[PhaseOutcome]:
    """Revert phases down to `to` (0 = the legacy schema), newest first."""
    settings = settings or Settings()
    with migration_lock(dsn) as lock_conn:
        targets = phases_to_roll_back(lock_conn, to)
        if not targets:
            log.info("nothing to roll back: no phase above %d is applied", to)
        return [rollback_phase(dsn, p.number, settings, lock_conn) for p in targets]


def status(dsn: str) -> list[dict[str, Any]]:
    """One row per phase of the plan: its state in the ledger, with a stale 'running' run explained, what it owns,
    the newest figures of the guard beside it (`guard`, `guard_direction`), and its forecast (`forecast_s`,
    `forecast_basis`): the one its newest run started with, or, for a phase still to apply, one made now."""
    conn = connect(dsn)
    try:
        latest = ledger.latest_runs(conn)
        holder = lock_holder(conn)
        owns = ledger.ownership_counts(conn)
        guarded = store.latest(conn)
        ahead = _forecasts_ahead(conn, latest)
    finally:
        conn.close()
    rows = []
    for p in load_plan():
        run = latest.get(p.number)
        state = "pending" if run is None else run["status"] if run["direction"] == "up" else \
            ("rolled back" if run["status"] == "rolled_back" else f"rollback {run['status']}")
        explanation = ""
        resumes = "migrate" if run and run["direction"] == "up" else "rollback"
        if run and run["status"] == "running" and holder is None:
            state, explanation = "interrupted", f"its runner stopped (killed or disconnected); {resumes} resumes it"
        elif run and run["status"] == "running" and holder and holder[0] != run["backend_pid"]:
            state, explanation = "interrupted", (
                f"its runner lost the migration's advisory lock, which pid {holder[0]} ({holder[1] or 'unknown'}) "
                f"holds now, not the run's own session (pid {run['backend_pid']}); {resumes} resumes it once that "
                "session ends")
        elif run and run["error"]:
            explanation = run["error"]
        elif run is None and p.requires:
            explanation = f"applied only when asked for (migrate --to {p.number}), on a {p.requires} server"
        rows.append({"phase": p.number, "name": p.name, "state": state,
                     "started_at": run and run["started_at"], "duration_s": run and run["duration_s"],
                     "backup": run and run["backup_path"], "decision": run and run["decision"],
                     "approved_by": run and run["approved_by"], "run_id": run and run["id"],
                     "owns": owns.get(p.number, {}), "explanation": explanation,
                     "guard": (guarded.get(p.number) or {}).get("figures"),
                     "guard_direction": (guarded.get(p.number) or {}).get("direction"),
                     **(ahead.get(p.number) or {"forecast_s": run and run.get("forecast_s"),
                                                "forecast_basis": run and run.get("forecast_basis")})})
    return rows


def _forecasts_ahead(conn: psycopg.Connection, latest: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """A forecast made now for each phase still to apply (never applied, or rolled back), from the rates measured on
    this database and the reference machine's."""
    ahead = [p for p in load_plan() if p.number not in latest or
             (latest[p.number]["direction"] == "down" and latest[p.number]["status"] == "rolled_back")]
    if not ahead:
        return {}
    made = forecast.of_phases(conn, ahead, "up", backfill_way(conn, None))
    return {n: {"forecast_s": round(f.seconds, 1), "forecast_basis": f"{f.basis} (made now)"}
            for n, f in made.items() if f is not None}
