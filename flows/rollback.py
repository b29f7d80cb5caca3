"""The `rollback` flow: revert phases newest first down to `to`, each backed up, reverted, validated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from prefect import flow, get_run_logger, pause_flow_run
from prefect.artifacts import create_table_artifact

from flows.migrate import DEFAULT_APPROVAL_TIMEOUT_S, PhaseApproval, resolve_dsn
from tasks import backup, ledger, runner, validate
from tasks.db import MigrationError, describe
from tasks.phase_tasks import backup_task, rollback_task


@flow(name="rollback")
def rollback(
    database: str = "",
    to: int = 0,
    approval: Literal["manual", "auto"] = "manual",
    approval_timeout_s: int = DEFAULT_APPROVAL_TIMEOUT_S,
    backups: bool = True,
    backup_dir: str | None = None,
    poll_interval: int = 5,
) -> list[dict[str, Any]]:
    """Roll back to phase `to` (0 = the legacy schema); in manual mode each step waits for approval."""
    dsn = resolve_dsn(database)
    get_run_logger().info("rolling %s back to phase %d", describe(dsn), to)
    folder = backup.backup_root(backup_dir) if backups else None
    settings, summary = runner.Settings(), []
    with runner.migration_lock(dsn) as lock_conn:
        for target in runner.phases_to_roll_back(lock_conn, to):
            if approval == "manual":
                answer = pause_flow_run(
                    wait_for_input=PhaseApproval.with_initial_data(
                        description=f"### Roll back phase {target.number} `{target.name}`?\n{target.rollback}"
                    ),
                    timeout=approval_timeout_s,
                    poll_interval=poll_interval,
                    key=f"rollback-phase-{target.number}",
                )
                if not answer.approve:
                    raise MigrationError(
                        f"rollback of phase {target.number} rejected by "
                        f"{answer.approver or 'operator'}: stopped, phase {target.number} stays"
                    )
            saved = backup_task(dsn, target.number, folder) if folder else None
            outcome = rollback_task(dsn, lock_conn, target.number, settings)
            check = (
                validate.validate_phase(dsn, target.number - 1, docs=False) if target.number > 1 else {"success": True}
            )
            ledger.update_run(
                lock_conn,
                outcome.run_id,
                validation=check,
                decided_at=datetime.now(UTC),
                backup_path=saved and str(saved["path"]),
                backup_sha256=saved and saved["sha256"],
            )
            summary.append(
                {
                    "phase": target.number,
                    "name": target.name,
                    "status": outcome.status,
                    "seconds": outcome.seconds,
                    "previous phase valid": check["success"],
                }
            )
            if not check["success"]:
                raise MigrationError(
                    f"after rolling back phase {target.number}, phase {target.number - 1} "
                    f"fails validation: {validate.summary_line(check)}"
                )
    create_table_artifact(summary or [{"phase": "-", "name": "nothing to roll back"}], key="rollback-summary")
    return summary
