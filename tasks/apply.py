"""Tasks that change the schema: apply a phase, roll one back, and the ledger facts that decide which."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import psycopg
from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from tenant_migrate import ledger, runner
from tenant_migrate.check.review import require_no_refusal, review
from tenant_migrate.pending import pending_phases
from tenant_migrate.plan import Phase, phase
from tenant_migrate.runner import PhaseOutcome
from tenant_migrate.steps import Settings
from tenant_migrate.tasks.common import progress_reporter


@task(name="phase to gate again", cache_policy=NO_CACHE)
def ungated_task(lock_conn: psycopg.Connection, to: int | None) -> tuple[Phase, dict[str, Any]] | None:
    """The last applied phase up to `to` with its ledger run, when an earlier run applied it and never recorded its
    go/no-go (killed at its gate, or the plain runner): only that phase can be, and it is validated and gated
    again before any other is applied."""
    undecided = ledger.undecided_run(lock_conn, to)
    return (phase(undecided["phase"]), undecided) if undecided else None


@task(name="all applied", cache_policy=NO_CACHE)
def all_applied_task(lock_conn: psycopg.Connection) -> bool:
    """Every phase up to the default target is applied, each with its go/no-go recorded."""
    return ledger.undecided_run(lock_conn) is None and not pending_phases(lock_conn, None)


@task(name="check", cache_policy=NO_CACHE)
def check_task(lock_conn: psycopg.Connection, phases: list[Phase], settings: Settings) -> None:
    """The whole-plan check before the first change: each phase still to apply against the live catalog. Its
    findings are a table artifact; a conflict stops the run with nothing changed."""
    way = runner.backfill_way(lock_conn, settings.backfill)
    findings = review(lock_conn, phases, way, settings.keep_global_unique)
    shown = [f for f in findings if f.verdict != "create"]
    create_table_artifact(
        [{"phase": f.phase, "verdict": f.verdict, "object": f.object, "detail": f.text} for f in shown]
        or [{"result": f"nothing of the app's is in the way of phases {[p.number for p in phases]}"}],
        key="check", description=f"whole-plan check ({way} way through phases 2-4)")
    for finding in shown:
        get_run_logger().info("check: %s", finding.line())
    require_no_refusal(findings)


@task(name="phases to roll back", cache_policy=NO_CACHE)
def phases_to_roll_back_task(lock_conn: psycopg.Connection, to: int) -> list[Phase]:
    """The phases above `to` that are applied or partly applied, newest first."""
    return runner.phases_to_roll_back(lock_conn, to)


@task(name="apply", cache_policy=NO_CACHE)
def apply_task(dsn: str, lock_conn: psycopg.Connection, number: int, settings: Settings,
               backup: dict[str, Any] | None) -> PhaseOutcome:
    """Run the phase's up steps (resuming an interrupted run) and record it, with its backup, in the ledger."""
    report = progress_reporter(f"apply-phase-{number}", "batched steps progress")
    with_progress = replace(settings, progress=lambda step, done, total: report(100.0 * done / max(1, total)))
    outcome = runner.apply_checked(dsn, lock_conn, phase(number), with_progress)
    report(100.0)
    backup_fields = {"backup_path": str(backup["path"]), "backup_sha256": backup["sha256"]} if backup else {}
    ledger.update_run(lock_conn, outcome.run_id, flow_run_id=flow_run.id, **backup_fields)
    for note in outcome.notes:
        get_run_logger().info("phase %d: %s", number, note)
    return outcome


@task(name="applied earlier", cache_policy=NO_CACHE)
def applied_earlier_task(lock_conn: psycopg.Connection, run: dict[str, Any]) -> PhaseOutcome:
    """The outcome of a phase applied by an earlier run that never got its go/no-go; this flow run takes it over."""
    get_run_logger().warning("phase %d was applied by ledger run %d with no go/no-go decision: validating it and "
                             "asking again", run["phase"], run["id"])
    ledger.update_run(lock_conn, run["id"], flow_run_id=flow_run.id)
    return PhaseOutcome(run["phase"], run["name"], "up", "applied", run["id"], float(run["duration_s"] or 0),
                        list(run["notes"] or []))


@task(name="rollback", cache_policy=NO_CACHE)
def rollback_task(dsn: str, lock_conn: psycopg.Connection, number: int, settings: Settings,
                  backup: dict[str, Any] | None = None) -> PhaseOutcome:
    """Run the phase's down steps, and record the backup taken before them."""
    outcome = runner.rollback_phase(dsn, number, settings, lock_conn)
    if backup:
        ledger.update_run(lock_conn, outcome.run_id, backup_path=str(backup["path"]), backup_sha256=backup["sha256"])
    return outcome


@task(name="roll back everything", cache_policy=NO_CACHE)
def rollback_all_task(dsn: str) -> list[PhaseOutcome]:
    """Roll every phase back, newest first, taking the migration lock (the dry run's copy)."""
    return runner.rollback(dsn, 0)
