"""Commands that read the plan and the ledger: plan, status."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cli.common import DsnOption, JsonOption, emit, fail_cleanly, target_dsn
from tenant_migrate import runner
from tenant_migrate.dsn import describe
from tenant_migrate.plan import load_plan, phase


def plan_command(
    only: Annotated[int | None, typer.Option("--phase", help="Show only this phase.")] = None,
    down: Annotated[bool, typer.Option("--down", help="Show the rollback steps instead.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Print, per phase, the SQL it would run and the locks it takes. Touches no database."""
    phases = [phase(only)] if only else list(load_plan())
    direction = "down" if down else "up"
    result: list[dict[str, Any]] = [
        {
            "phase": p.number,
            "name": p.name,
            "title": p.title,
            "risk": p.risk,
            "summary": p.summary,
            "warning": p.warning,
            "steps": [
                {"step": s.name, "mode": s.mode, "table": s.table, "locks": s.locks, "sql": s.sql}
                for s in p.steps(direction)
            ],
        }
        for p in phases
    ]
    text = []
    for p in result:
        text.append(f"== phase {p['phase']} {p['name']}: {p['title']} (risk {p['risk']})\n   {p['summary']}")
        if p["warning"]:
            text.append(f"   WARNING: {p['warning']}")
        for s in p["steps"]:
            text.append(
                f"-- step {s['step']} [{s['mode']}{' on ' + s['table'] if s['table'] else ''}] "
                f"locks: {'; '.join(s['locks'])}\n{s['sql'].strip()}\n"
            )
    emit(result, as_json, "\n".join(text))


def status_command(dsn: DsnOption = None, as_json: JsonOption = False) -> None:
    """The ledger: each phase's state, last run, duration, backup and approval."""
    target = target_dsn(dsn)
    rows = runner.status(target)
    lines = [f"{describe(target)}", f"  {'phase':<34} {'state':<14} {'started':<20} {'seconds':>8}  approved by"]
    for r in rows:
        started = f"{r['started_at']:%Y-%m-%d %H:%M:%S}" if r["started_at"] else "-"
        lines.append(
            f"  {r['phase']} {r['name']:<32} {r['state']:<14} {started:<20} "
            f"{r['duration_s'] if r['duration_s'] is not None else '-':>8}  {r['approved_by'] or '-'}"
        )
        if r["explanation"]:
            lines.append(f"      {r['explanation']}")
    emit(rows, as_json, "\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("plan")(fail_cleanly(plan_command))
    app.command("status")(fail_cleanly(status_command))
