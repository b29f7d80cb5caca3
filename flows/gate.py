"""The go/no-go gate of the migrate and rollback flows: the form in the Prefect UI, its timeout, and the ledger
record of every decision.

A gate pauses the flow run (pause_flow_run, so it is called from the flow, not from a task): the
operator opens the run in the UI, clicks Resume, reads the checklist and answers the form. No answer
before the timeout counts as no. With automatic approval (dry runs) nothing pauses.

Who may answer: every answer names its approver (the form refuses a blank name). When an allow-list is set
(the worker's $TENANT_MIGRATE_APPROVERS and/or the Prefect Variable `tenant_migrate_approvers`, names separated
by commas), the name must be on each list that is set; another name is not a decision, and the gate asks again
until the timeout. A deployment's run (a production run started from the UI or the API) waits for a decision
only when an allow-list is set (without one, anyone who reaches the UI could approve under any name): it is refused
before anything runs, and a gate refuses to wait if the list is gone meanwhile. It may use automatic approval only
when its worker's environment allows it ($TENANT_MIGRATE_ALLOW_AUTO_APPROVAL=1). Runs outside a deployment (the CLI,
tests) keep a gate without a list. These names are only as trustworthy as the Prefect API is protected
(docs/protecting-the-prefect-api.md).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Literal

import psycopg
from prefect import get_run_logger, pause_flow_run
from prefect.artifacts import create_markdown_artifact
from prefect.exceptions import FlowPauseTimeout
from prefect.input import RunInput
from prefect.runtime import deployment, flow_run
from prefect.variables import Variable
from pydantic import Field

from tenant_migrate import ledger
from tenant_migrate.db import Counts
from tenant_migrate.errors import GateRefused, GateTimedOut, MigrationError
from tenant_migrate.plan import Phase, load_plan, phase

DEFAULT_APPROVAL_TIMEOUT_S = 24 * 3600
GO = ("approved", "auto")
APPROVERS_ENV = "TENANT_MIGRATE_APPROVERS"
APPROVERS_VARIABLE = "tenant_migrate_approvers"
ALLOW_AUTO_ENV = "TENANT_MIGRATE_ALLOW_AUTO_APPROVAL"


class PhaseApproval(RunInput):
    """The go/no-go form shown in the Prefect UI's Resume dialog."""

    approve: bool = Field(default=False, description="Go. Off = no-go (see the question above for what that does).")
    approver: str = Field(min_length=1, pattern=r"\S", description="Your name, recorded in the ledger (required).")
    comment: str = Field(default="", description="Why, recorded in the ledger.")


@dataclass(frozen=True)
class Decision:
    verdict: str  # approved, rejected, timed_out or auto
    approver: str
    comment: str

    @property
    def go(self) -> bool:
        return self.verdict in GO

    def said(self) -> str:
        """How the decision reads in a message: 'rejected by lead', 'approval timed out'."""
        if self.verdict == "timed_out":
            return "approval timed out"
        return f"{self.verdict} by {self.approver or 'operator'}"


def refused(target: Phase, direction: Literal["up", "down"], decision: Decision) -> GateRefused:
    """The error that stops a flow at a no-go, once the no-go's undo is done (a timeout is a no-go, said as one:
    Prefect words the run's own state "never resumed")."""
    if decision.verdict == "timed_out":
        undone = "the phase was rolled back and the migration" if direction == "up" else \
            "nothing was rolled back and the rollback"
        where = f"phase {target.number} {target.name}" if direction == "up" else f"rollback of phase {target.number}"
        return GateTimedOut(f"{where}: approval timed out: no go/no-go before --approval-timeout, so {undone} "
                            "stopped; `tenant-migrate status` shows the outcome", phase=target.number,
                            direction=direction, verdict=decision.verdict)
    said = f"phase {target.number} {target.name} {decision.said()}: it was rolled back; the migration stopped" \
        if direction == "up" else \
        f"rollback of phase {target.number} {decision.said()}: stopped, phase {target.number} stays applied"
    return GateRefused(said, phase=target.number, direction=direction, verdict=decision.verdict)


def check_approval_mode(approval: str) -> None:
    """Automatic approval in a deployment's run (production, started from the UI or the API) only when the worker
    allows it: a custom run's approval=auto must not skip every gate. Manual approval in a deployment's run only
    with an approver allow-list."""
    if approval == "auto" and deployment.id and os.environ.get(ALLOW_AUTO_ENV, "").lower() not in ("1", "true", "yes"):
        raise MigrationError(f"approval auto is refused in a run of a deployment: its worker does not allow automatic "
                             f"approval; answer the gates in the Prefect UI (approval manual), or set "
                             f"{ALLOW_AUTO_ENV}=1 in the environment of a worker meant for rehearsals")
    if approval == "manual":
        require_allow_list()


def require_allow_list() -> None:
    """A deployment's run waits at a gate only for approvers on an allow-list; without one it refuses to wait."""
    if deployment.id and not allow_lists():
        raise MigrationError(f"a run of a deployment waits at its gates only for named approvers, and no allow-list "
                             f"is set: set {APPROVERS_ENV}='ana, ben' in the worker's environment, or the Prefect "
                             f"Variable (prefect variable set {APPROVERS_VARIABLE} 'ana, ben'), then run it again")


def _names(value: Any) -> set[str]:
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else [value]
    return {str(item).strip().casefold() for item in items if str(item).strip()}


def allow_lists() -> list[set[str]]:
    """The approver allow-lists that are set: the worker's environment variable, the Prefect Variable."""
    lists = [os.environ.get(APPROVERS_ENV, ""), Variable.get(APPROVERS_VARIABLE, default="")]
    return [names for names in map(_names, lists) if names]


def refusal(approver: str) -> str:
    """Why an answer by `approver` is not a decision ('' when it is)."""
    name = approver.strip()
    if not name:
        return "an answer needs your name in approver"
    if any(name.casefold() not in names for names in allow_lists()):
        return f"{name!r} is not on the list of approvers ({APPROVERS_ENV} of the worker, Prefect Variable " \
               f"{APPROVERS_VARIABLE})"
    return ""


def ask(question: str, *, key: str, approval: str, timeout_s: int, poll_interval: int) -> Decision:
    """Ask the operator (approval manual) or approve at once (approval auto, dry runs). An answer that is not a
    decision (see refusal) is logged and the form asked again, under the same overall timeout."""
    if approval == "auto":
        return Decision("auto", "auto", "approved automatically (approval auto)")
    require_allow_list()
    create_markdown_artifact(question, key=f"gate-{key}", description="go/no-go checklist")
    get_run_logger().info("%s awaits approval in the Prefect UI (Resume on this run)", key)
    deadline, attempt, note = time.monotonic() + timeout_s, 1, ""
    while (remaining := int(deadline - time.monotonic())) >= 1:
        try:
            answer = pause_flow_run(wait_for_input=PhaseApproval.with_initial_data(description=note + question),
                                    timeout=remaining, poll_interval=poll_interval,
                                    key=key if attempt == 1 else f"{key}-{attempt}")
        except FlowPauseTimeout:
            break
        refused = refusal(answer.approver)
        if not refused:
            return Decision("approved" if answer.approve else "rejected", answer.approver.strip(), answer.comment)
        get_run_logger().warning("%s: the answer of %r is not a decision: %s; asking again", key, answer.approver,
                                 refused)
        attempt, note = attempt + 1, f"**Not accepted:** {refused}. Answer again.\n\n"
    return Decision("timed_out", "", f"no answer within {timeout_s} s")


def record(lock_conn: psycopg.Connection, target: Phase, direction: str, decision: Decision,
           run_id: int | None) -> int:
    """Write the decision to the ledger (and onto the phase run when there is one); returns its id."""
    return ledger.record_decision(lock_conn, phase=target.number, direction=direction, run_id=run_id,
                                  decision=decision.verdict, decided_by=decision.approver, comment=decision.comment,
                                  flow_run_id=flow_run.id)


def attach(lock_conn: psycopg.Connection, decision_id: int, run_id: int) -> None:
    """A rollback's decision joins the rollback run it allowed."""
    ledger.attach_decision(lock_conn, decision_id, run_id)


@dataclass(frozen=True)
class PhaseEvidence:
    """What the migrate gate shows of a phase just applied (or applied by an earlier run) and validated."""

    run_id: int
    status: ledger.RunStatus
    seconds: float
    forecast_s: float | None
    notes: list[str]
    backup: dict[str, Any] | None  # path, sha256, verified; None: --no-backup
    validation: dict[str, Any]  # success, passed, evaluated (tenant_migrate/validation/results.py)
    counts_before: dict[str, int]
    counted: Counts  # after the phase
    whole_phase_watched: bool  # the guard watched the phase from its first step
    app_statements: dict[str, Any]  # tasks/compat.py compat_after_task
    sections: list[str]  # more evidence, each a markdown section of its own (guard, app statements, forecast)


def _box(ok: Any) -> str:
    return "x" if ok else " "


def applied_question(target: Phase, evidence: PhaseEvidence) -> str:
    """The migrate gate, after a phase is applied and validated: the plan's go/no-go checklist with the evidence."""
    plan = load_plan()
    next_phase = phase(target.number + 1) if target.number < len(plan) else None
    backup_info, validation = evidence.backup or {}, evidence.validation
    before, after = evidence.counts_before, evidence.counted.rows()
    kept = evidence.counted.kept
    rows = "\n".join(f"| {t} | {before.get(t, '-'):,} | {after[t]:,} | {kept[t]:,} |" for t in after)
    lines = [
        f"### Phase {target.number} `{target.name}` applied: go on?",
        f"{target.summary}",
        "",
        f"- [{_box(validation.get('success'))}] Phase validated: {validation.get('passed', 0)} of "
        f"{validation.get('evaluated', 0)} checks passed",
        f"- [{_box(backup_info.get('verified'))}] Backup completed and verified: "
        f"`{backup_info.get('path', 'none (--no-backup)')}`"
        + (f", sha256 `{backup_info['sha256'][:16]}…`" if backup_info.get("sha256") else ""),
        f"- [x] Rollback procedure confirmed: {target.rollback}",
        "- [ ] Team available for support",
        f"- [{_box(evidence.whole_phase_watched)}] Monitoring systems active",
        "",
        f"Duration: {evidence.seconds:.1f} s. Notes: {'; '.join(evidence.notes) or 'none'}",
        "",
        "| table | rows before | rows after | of them there before |",
        "|---|---|---|---|",
        rows,
    ]
    for section in evidence.sections:
        lines += ["", section]
    if target.warning:
        lines += ["", f"**Warning:** {target.warning}"]
    if next_phase:
        lines += ["", f"**Next:** phase {next_phase.number} `{next_phase.name}`: {next_phase.summary} "
                      f"Risk: {next_phase.risk}."]
    lines += ["", "Approve to go on. No-go (approve off), or no answer in time: this phase is rolled back by its "
                  "down script and the migration stops."]
    return "\n".join(lines)


def rollback_question(target: Phase) -> str:
    """The rollback gate, before a phase is rolled back."""
    return "\n".join([
        f"### Roll back phase {target.number} `{target.name}`?",
        f"{target.rollback}",
        "",
        "Approve to back up the database and roll this phase back. No-go (approve off), or no answer in time: "
        f"nothing changes, phase {target.number} stays applied and the rollback stops.",
    ])
