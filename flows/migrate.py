"""The `migrate` flow: each phase as a subflow (preflight, backup, apply, validate), then a go/no-go gate.

The gate comes after the phase is applied and validated, and asks "go on to the next phase?". That is
deliberate: the operator decides on evidence (the validation result, row counts after, the backup)
rather than on a promise, and a "no" rolls back the phase that was just applied by its down script.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger, pause_flow_run
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.context import get_run_context
from prefect.exceptions import FlowPauseTimeout
from prefect.input import RunInput
from psycopg.conninfo import conninfo_to_dict
from pydantic import Field

from tasks import backup, checklist, faults, ledger, runner
from tasks.db import MigrationError, describe, row_counts
from tasks.phase_tasks import apply_task, artifact_key, backup_task, preflight_task, rollback_task, validate_task
from tasks.plan import Phase, load_plan, phase

DEFAULT_APPROVAL_TIMEOUT_S = 24 * 3600


class PhaseApproval(RunInput):
    """The go/no-go form shown in the Prefect UI's Resume dialog."""

    approve: bool = Field(
        default=False,
        description="Go: keep this phase and go on to the next one. Off = no-go: roll this phase back and stop.",
    )
    approver: str = Field(default="", description="Your name, recorded in the ledger.")
    comment: str = Field(default="", description="Why, recorded in the ledger.")


def resolve_dsn(database: str) -> str:
    """A DSN given directly (local use), or the name of a Prefect Secret block holding one."""
    if "://" in database or "=" in database:
        if conninfo_to_dict(database).get("password"):
            raise MigrationError(
                "a DSN with a password would be stored in the flow run's parameters: put it in "
                "a Prefect Secret block and pass the block's name"
            )
        return database
    from prefect.blocks.system import Secret

    try:
        return Secret.load(database).get()
    except ValueError as exc:
        raise MigrationError(f"no Prefect Secret block named {database!r}: create it or pass a DSN") from exc


def checklist_markdown(target: Phase, evidence: dict[str, Any]) -> str:
    """The plan's go/no-go checklist for this gate, with the evidence filled in."""
    next_phase = phase(target.number + 1) if target.number < len(load_plan()) else None
    backup_info = evidence.get("backup") or {}
    validation = evidence.get("validation") or {}
    before, after = evidence.get("counts_before", {}), evidence.get("counts_after", {})
    rows = "\n".join(f"| {t} | {before.get(t, '-'):,} | {after.get(t, '-'):,} |" for t in after)
    box = lambda ok: "x" if ok else " "  # noqa: E731
    lines = [
        f"### Phase {target.number} `{target.name}` applied: go on?",
        f"{target.summary}",
        "",
        f"- [{box(validation.get('success'))}] Phase validated: {validation.get('passed', 0)} of "
        f"{validation.get('evaluated', 0)} checks passed",
        f"- [{box(backup_info.get('verified'))}] Backup completed and verified: "
        f"`{backup_info.get('path', 'none (--no-backup)')}`"
        + (f", sha256 `{backup_info['sha256'][:16]}…`" if backup_info.get("sha256") else ""),
        f"- [x] Rollback procedure confirmed: {target.rollback}",
        "- [ ] Team available for support",
        "- [ ] Monitoring systems active",
        "",
        f"Duration: {evidence.get('seconds', 0):.1f} s. Notes: {'; '.join(evidence.get('notes', [])) or 'none'}",
        "",
        "| table | rows before | rows after |",
        "|---|---|---|",
        rows,
    ]
    if target.warning:
        lines += ["", f"**Warning:** {target.warning}"]
    if next_phase:
        lines += [
            "",
            f"**Next:** phase {next_phase.number} `{next_phase.name}`: {next_phase.summary} Risk: {next_phase.risk}.",
        ]
    lines += ["", "Approve to go on; leave *approve* off and submit to roll this phase back and stop."]
    return "\n".join(lines)


def approve(target: Phase, evidence: dict[str, Any], mode: str, timeout_s: int, poll_interval: int) -> PhaseApproval:
    if mode == "auto":
        return PhaseApproval(approve=True, approver="auto", comment="dry run: approved automatically")
    description = checklist_markdown(target, evidence)
    create_markdown_artifact(description, key=f"gate-phase-{target.number}", description="go/no-go checklist")
    get_run_logger().info("phase %d awaits approval in the Prefect UI (Resume on this run)", target.number)
    return pause_flow_run(
        wait_for_input=PhaseApproval.with_initial_data(description=description),
        timeout=timeout_s,
        poll_interval=poll_interval,
        key=f"phase-{target.number}",
    )


def run_phase_subflow(
    dsn: str, lock_conn, number: int, settings: runner.Settings, backup_dir: Path | None, data_docs: bool,
    applied: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One phase: preflight, backup (+ verify), apply, validate. Returns the gate's evidence.

    `applied`: the ledger run of the last phase when it was applied by an earlier run that stopped before its
    go/no-go (killed at the gate, or the plain runner); it is validated and gated again, not left unapproved.
    """

    @flow(name=phase(number).name)
    def phase_flow() -> dict[str, Any]:
        if applied is None:
            checks = preflight_task(dsn, lock_conn, number, backup_dir)
            backup_info = backup_task(dsn, number, backup_dir, checks.get("database_size_bytes", 0)) \
                if backup_dir else None
            outcome = apply_task(dsn, lock_conn, number, settings)
            backup_fields = {"backup_path": str(backup_info["path"]), "backup_sha256": backup_info["sha256"]} \
                if backup_info else {}
        else:
            get_run_logger().warning("phase %d was applied by ledger run %d with no go/no-go decision: "
                                     "validating it and asking again", number, applied["id"])
            checks, backup_fields = {}, {}
            backup_info = {"path": applied["backup_path"], "sha256": applied["backup_sha256"], "verified": True} \
                if applied["backup_path"] else None
            outcome = runner.PhaseOutcome(number, phase(number).name, "up", "applied", applied["id"],
                                          float(applied["duration_s"] or 0), list(applied["notes"] or []))
        ledger.update_run(lock_conn, outcome.run_id, flow_run_id=str(get_run_context().flow_run.id), **backup_fields)
        faults.checkpoint(f"phase{number}:applied")
        validation = validate_task(dsn, lock_conn, number, outcome.run_id, settings.admin_email, data_docs)
        counts_before = ledger.snapshot(lock_conn, outcome.run_id)  # taken by the runner just before apply
        counts_after = row_counts(lock_conn)
        create_table_artifact(
            [{"table": t, "before": counts_before.get(t), "after": n} for t, n in counts_after.items()],
            key=f"row-counts-phase-{number}",
            description="row counts before/after",
        )
        create_markdown_artifact(
            f"### Phase {number} `{phase(number).name}`\n- status: {outcome.status} in {outcome.seconds:.1f} s\n"
            f"- backup: `{backup_info['path'] if backup_info else 'none (--no-backup)'}`\n"
            f"- validation: {validation.get('passed')}/{validation.get('evaluated')} passed\n"
            + "".join(f"- {n}\n" for n in outcome.notes),
            key=artifact_key(f"phase-{number}-summary"),
            description="phase summary",
        )
        return {
            "checks": checks,
            "backup": backup_info,
            "validation": validation,
            "run_id": outcome.run_id,
            "counts_before": counts_before,
            "counts_after": counts_after,
            "seconds": outcome.seconds,
            "notes": outcome.notes,
            "status": outcome.status,
        }

    return phase_flow()


def run_checklist_subflow(dsn: str, load_seconds: float) -> list[dict[str, Any]]:
    """The plan's Phase 8 "Testing & Validation": every line measured, reported as a table; fails if one fails."""

    @flow(name="plan-phase-8-checklist")
    def checklist_flow() -> list[dict[str, Any]]:
        lines = checklist.run_checklist(dsn, load_seconds=load_seconds)
        verdict = checklist.summary(lines)
        create_table_artifact(
            [{"section": x["section"], "check": x["check"], "result": "pass" if x["ok"] else "FAIL",
              "evidence": x["evidence"]} for x in lines],
            key="phase-8-checklist",
            description=verdict,
        )
        get_run_logger().info(verdict)
        if not all(x["ok"] for x in lines):
            raise MigrationError(verdict)
        return lines

    return checklist_flow()


def migrate_phases(
    dsn: str,
    *,
    to: int | None,
    approval: str,
    approval_timeout_s: int,
    backup_folder: Path | None,
    settings: runner.Settings,
    poll_interval: int,
    data_docs: bool = True,
    checklist_load_seconds: float = 5.0,
) -> list[dict[str, Any]]:
    """The body of `migrate`, also run by the staging dry run: pending phases in order, each gated, then
    the plan's Phase 8 checklist once every phase is applied."""
    summary = []
    with runner.migration_lock(dsn) as lock_conn:
        undecided = ledger.undecided_run(lock_conn, to)
        regate = [phase(undecided["phase"])] if undecided else []
        for target in regate + runner.pending_phases(lock_conn, to):
            evidence = run_phase_subflow(dsn, lock_conn, target.number, settings, backup_folder, data_docs,
                                         undecided if target in regate else None)
            try:
                decision = approve(target, evidence, approval, approval_timeout_s, poll_interval)
                verdict = "auto" if approval == "auto" else ("approved" if decision.approve else "rejected")
            except FlowPauseTimeout:
                decision, verdict = PhaseApproval(approve=False, comment="approval timed out"), "timed_out"
            ledger.update_run(
                lock_conn,
                evidence["run_id"],
                decision=verdict,
                approved_by=decision.approver,
                approval_comment=decision.comment,
                decided_at=datetime.now(UTC),
            )
            summary.append(
                {
                    "phase": target.number,
                    "name": target.name,
                    "status": evidence["status"],
                    "seconds": evidence["seconds"],
                    "decision": verdict,
                    "checks": f"{evidence['validation'].get('passed')}/{evidence['validation'].get('evaluated')}",
                    "backup": str((evidence["backup"] or {}).get("path", "-")),
                }
            )
            if verdict in ("rejected", "timed_out"):
                rollback_task(dsn, lock_conn, target.number, settings)
                create_table_artifact(summary, key="migration-summary", description="per-phase results")
                why = (
                    "approval timed out" if verdict == "timed_out" else f"rejected by {decision.approver or 'operator'}"
                )
                raise MigrationError(
                    f"phase {target.number} {target.name} {why}: it was rolled back; the migration stopped"
                )
        create_table_artifact(
            summary or [{"phase": "-", "name": "nothing to apply"}],
            key="migration-summary",
            description="per-phase results",
        )
        if not runner.pending_phases(lock_conn, None):
            run_checklist_subflow(dsn, checklist_load_seconds)
    return summary


@flow(name="migrate")
def migrate(
    database: str = "",
    to: int | None = None,
    approval: Literal["manual", "auto"] = "manual",
    approval_timeout_s: int = DEFAULT_APPROVAL_TIMEOUT_S,
    backups: bool = True,
    backup_dir: str | None = None,
    batch_size: int = 10_000,
    lock_timeout_ms: int = 200,
    poll_interval: int = 5,
    data_docs: bool = True,
    checklist_load_seconds: float = 5.0,
) -> list[dict[str, Any]]:
    """Apply the pending phases up to `to`, each gated, then run the plan's Phase 8 checklist when all are
    applied; `database` is a DSN or a Prefect Secret block name."""
    dsn = resolve_dsn(database or os.environ.get("DATABASE_URL", ""))
    get_run_logger().info("migrating %s (approval %s)", describe(dsn), approval)
    return migrate_phases(
        dsn,
        to=to,
        approval=approval,
        approval_timeout_s=approval_timeout_s,
        backup_folder=backup.backup_root(backup_dir) if backups else None,
        settings=runner.Settings(batch_size=batch_size, lock_timeout_ms=lock_timeout_ms),
        poll_interval=poll_interval,
        data_docs=data_docs,
        checklist_load_seconds=checklist_load_seconds,
    )
