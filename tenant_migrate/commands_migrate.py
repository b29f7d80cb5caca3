"""Commands of the phase runner: plan, migrate, rollback, status."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Annotated

import typer

from tasks import runner
from tasks.db import describe
from tasks.plan import load_plan, phase
from tenant_migrate.common import DsnOption, JsonOption, emit, fail_cleanly, target_dsn

BatchOption = Annotated[int, typer.Option(help="Rows per backfill transaction (phase 4).", min=100)]
LockTimeoutOption = Annotated[int, typer.Option(
    help="lock_timeout of every DDL statement, in ms; a statement that times out is retried with backoff.", min=10)]


def show_logs() -> None:
    logging.basicConfig(format="%(asctime)s %(message)s", datefmt="%H:%M:%S", level=logging.WARNING)
    logging.getLogger("tenant_migrate").setLevel(logging.INFO)


def outcome_table(outcomes: list[runner.PhaseOutcome]) -> str:
    lines = [f"  {o.phase}  {o.name:<30} {o.status:<12} {o.seconds:>8.1f} s" for o in outcomes]
    notes = [f"     - {note}" for o in outcomes for note in o.notes]
    return "\n".join(lines + notes) or "  nothing to do"


def plan_command(
    only: Annotated[int | None, typer.Option("--phase", help="Show only this phase.")] = None,
    down: Annotated[bool, typer.Option("--down", help="Show the rollback steps instead.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Print, per phase, the SQL it would run and the locks it takes. Touches no database."""
    phases = [phase(only)] if only else list(load_plan())
    direction = "down" if down else "up"
    result = [{"phase": p.number, "name": p.name, "title": p.title, "risk": p.risk, "summary": p.summary,
               "warning": p.warning, "steps": [{"step": s.name, "mode": s.mode, "table": s.table, "locks": s.locks,
                                                "sql": s.sql} for s in p.steps(direction)]} for p in phases]
    text = []
    for p in result:
        text.append(f"== phase {p['phase']} {p['name']}: {p['title']} (risk {p['risk']})\n   {p['summary']}")
        if p["warning"]:
            text.append(f"   WARNING: {p['warning']}")
        for s in p["steps"]:
            text.append(f"-- step {s['step']} [{s['mode']}{' on ' + s['table'] if s['table'] else ''}] "
                        f"locks: {'; '.join(s['locks'])}\n{s['sql'].strip()}\n")
    emit(result, as_json, "\n".join(text))


def migrate_command(
    dsn: DsnOption = None,
    to: Annotated[int | None, typer.Option(help="Stop after this phase (default: the last).")] = None,
    batch_size: BatchOption = 10_000,
    lock_timeout_ms: LockTimeoutOption = 200,
    admin_email: Annotated[str, typer.Option(help="Email of the admin tenant (user 1).")] = "admin@swiftreplies.ai",
    admin_whatsapp_number: Annotated[str, typer.Option(help="WhatsApp number of the default chatbot (id 1).")]
    = "YOUR_WHATSAPP_NUMBER",
    as_json: JsonOption = False,
) -> None:
    """Apply the pending phases in order (applied ones are skipped, an interrupted one resumes)."""
    show_logs()
    target = target_dsn(dsn)
    settings = runner.Settings(lock_timeout_ms=lock_timeout_ms, batch_size=batch_size,
                               admin_email=admin_email, admin_whatsapp_number=admin_whatsapp_number)
    outcomes = runner.migrate(target, to, settings)
    emit([asdict(o) for o in outcomes], as_json, f"migrated {describe(target)}:\n{outcome_table(outcomes)}")


def rollback_command(
    to: Annotated[int, typer.Option(help="Roll back every phase above this one (0 = the legacy schema).")],
    dsn: DsnOption = None,
    batch_size: BatchOption = 10_000,
    lock_timeout_ms: LockTimeoutOption = 200,
    as_json: JsonOption = False,
) -> None:
    """Revert phases newest first, each by its down script, down to phase --to."""
    show_logs()
    target = target_dsn(dsn)
    outcomes = runner.rollback(target, to, runner.Settings(lock_timeout_ms=lock_timeout_ms, batch_size=batch_size))
    emit([asdict(o) for o in outcomes], as_json, f"rolled back {describe(target)}:\n{outcome_table(outcomes)}")


def status_command(dsn: DsnOption = None, as_json: JsonOption = False) -> None:
    """The ledger: each phase's state, last run, duration, backup and approval."""
    target = target_dsn(dsn)
    rows = runner.status(target)
    lines = [f"{describe(target)}", f"  {'phase':<34} {'state':<14} {'started':<20} {'seconds':>8}  approved by"]
    for r in rows:
        started = f"{r['started_at']:%Y-%m-%d %H:%M:%S}" if r["started_at"] else "-"
        lines.append(f"  {r['phase']} {r['name']:<32} {r['state']:<14} {started:<20} "
                     f"{r['duration_s'] if r['duration_s'] is not None else '-':>8}  {r['approved_by'] or '-'}")
        if r["explanation"]:
            lines.append(f"      {r['explanation']}")
    emit(rows, as_json, "\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("plan")(fail_cleanly(plan_command))
    app.command("migrate")(fail_cleanly(migrate_command))
    app.command("rollback")(fail_cleanly(rollback_command))
    app.command("status")(fail_cleanly(status_command))
