"""The `rollback` flow: revert phases newest first down to `to`; each one gated, backed up, reverted, and the
phase below it validated again."""

from __future__ import annotations

from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from tenant_migrate.dsn import describe
from tenant_migrate.flows import gate
from tenant_migrate.flows.forecast import load_rates, publishing_rates, rollback_section
from tenant_migrate.flows.monitor import Budgets, drawing_plots, watching
from tenant_migrate.flows.session import backup_folder, migration_lock, resolve_database
from tenant_migrate.options import check_rollback_options
from tenant_migrate.steps import Settings
from tenant_migrate.tasks.apply import phases_to_roll_back_task, rollback_task
from tenant_migrate.tasks.backup import backup_task
from tenant_migrate.tasks.common import artifacts_sent
from tenant_migrate.tasks.validate import validate_after_rollback_task


@flow(name="rollback")
def rollback(
    database: str = "",
    to: int = 0,
    approval: Literal["manual", "auto"] = "manual",
    approval_timeout_s: int = gate.DEFAULT_APPROVAL_TIMEOUT_S,
    backups: bool = True,
    backup_dir: str | None = None,
    poll_interval: int = 5,
    budgets: Budgets | None = None,
) -> list[dict[str, Any]]:
    """Roll back to phase `to` (0 = the legacy schema); in manual mode each phase waits for its go/no-go.
    `database` is a DSN (no password), a Prefect Secret block name, or empty for $DATABASE_URL. The guard watches
    each phase's backup, rollback and check, with `budgets` as in the migrate flow. Every parameter is checked before
    anything runs; approval auto in a deployment's run needs its worker's consent (flows/gate.py)."""
    check_rollback_options(to=to, approval=approval, approval_timeout_s=approval_timeout_s,
                           poll_interval=poll_interval)
    gate.check_approval_mode(approval)
    budgets = budgets or Budgets()
    dsn = resolve_database(database)
    get_run_logger().info("rolling %s back to phase %d (approval %s)", describe(dsn), to, approval)
    folder, settings, summary = backup_folder(backups, backup_dir), Settings(rates=load_rates()), []
    with migration_lock(dsn) as lock_conn, drawing_plots(), artifacts_sent(), \
            publishing_rates(dsn, settings.rates):
        for target in phases_to_roll_back_task(lock_conn, to):
            question = gate.rollback_question(target) + "\n\n" + rollback_section(
                lock_conn, target, settings.rates, settings.lock_timeout_ms)
            decision = gate.ask(question, key=f"rollback-phase-{target.number}",
                                approval=approval, timeout_s=approval_timeout_s, poll_interval=poll_interval)
            decision_id = gate.record(lock_conn, target, "down", decision, None)
            if not decision.go:
                raise gate.refused(target, "down", decision)
            with watching(dsn, lock_conn, target, "down", budgets) as watch:
                watch.stage("backup")
                saved = backup_task(dsn, target.number, folder) if folder else None
                watch.stage("rollback")
                outcome = rollback_task(dsn, lock_conn, target.number, watch.settings(settings), saved)
                gate.attach(lock_conn, decision_id, outcome.run_id)
                watch.stage("validate")
                check = validate_after_rollback_task(dsn, lock_conn, target.number, outcome.run_id)
            summary.append({"phase": target.number, "name": target.name, "status": outcome.status,
                            "seconds": outcome.seconds, "previous phase valid": check["success"],
                            "decision": decision.verdict})
    create_table_artifact(summary or [{"phase": "-", "name": "nothing to roll back"}], key="rollback-summary")
    return summary
