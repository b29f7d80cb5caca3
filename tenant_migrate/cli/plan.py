"""Commands that read the plan, the database and the ledger, and change nothing: plan, check, status."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tenant_migrate import forecast, runner
from tenant_migrate.check.objects import Finding
from tenant_migrate.citus import readiness
from tenant_migrate.cli.common import (
    BackfillOption,
    DsnOption,
    JsonOption,
    KeepGlobalUniqueOption,
    emit,
    fail_cleanly,
    target_dsn,
)
from tenant_migrate.db import connection
from tenant_migrate.dsn import describe
from tenant_migrate.errors import MigrationError
from tenant_migrate.guard import report
from tenant_migrate.plan import Phase, load_plan, phase


def findings_text(findings: list[Finding], verdicts: tuple[str, ...]) -> list[str]:
    return [f"  {f.line()}" for f in findings if f.verdict in verdicts]


def _phase_entry(p: Phase, direction: str, way: str, findings: list[Finding],
                 made: forecast.Forecast | None) -> dict[str, Any]:
    return {
        "phase": p.number,
        "name": p.name,
        "title": p.title,
        "risk": p.risk,
        "summary": p.summary,
        "warning": p.warning,
        "plan_duration": p.plan_duration,
        "forecast_s": round(made.seconds, 1) if made else None,
        "forecast": made.line() if made else None,
        "locks": made.locks if made else [],
        "steps": [
            {"step": s.name, "mode": s.mode, "table": s.table, "locks": s.locks, "sql": s.sql}
            for s in p.steps(direction, way)
        ],
        "objects": [vars(f) | {"adopted": None} for f in findings if f.phase == p.number],
    }


def plan_command(
    only: Annotated[int | None, typer.Option("--phase", help="Show only this phase.")] = None,
    down: Annotated[bool, typer.Option("--down", help="Show the rollback steps instead.")] = False,
    dsn: Annotated[str | None, typer.Option("--dsn", help="Also say, per object the pending phases create, what "
                                            "happens on this database: create, adopt or refuse; and forecast each "
                                            "phase's duration there (reads only).", show_default=False)] = None,
    backfill: BackfillOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print, per phase, the SQL it would run and the locks it takes. Touches no database, unless --dsn."""
    phases = [phase(only)] if only else list(load_plan())
    direction = "down" if down else "up"
    way, findings = runner.check(target_dsn(dsn), backfill=backfill) if dsn else (backfill or "instant", [])
    expected: dict[int, forecast.Forecast | None] = {}
    if dsn:
        with connection(target_dsn(dsn)) as conn:
            expected = forecast.of_phases(conn, phases, direction, way)
    result = [_phase_entry(p, direction, way, findings, expected.get(p.number)) for p in phases]
    text = []
    for p in result:
        text.append(f"== phase {p['phase']} {p['name']}: {p['title']} (risk {p['risk']})\n   {p['summary']}")
        unknown = "no run of it measured yet" if dsn else "--dsn forecasts it on that database"
        text.append(f"   duration: {p['forecast'] or unknown}; the plan said {p['plan_duration']}")
        text += [f"   locks: {line}" for line in p["locks"]]
        if p["warning"]:
            text.append(f"   WARNING: {p['warning']}")
        text += [f"   {f['verdict'].upper():<7} {f['object']}{': ' + f['text'] if f['text'] else ''}"
                 for f in p["objects"]]
        for s in p["steps"]:
            text.append(
                f"-- step {s['step']} [{s['mode']}{' on ' + s['table'] if s['table'] else ''}] "
                f"locks: {'; '.join(s['locks'])}\n{s['sql'].strip()}\n"
            )
    emit(result, as_json, "\n".join(text))


def check_command(
    dsn: DsnOption = None,
    to: Annotated[int | None, typer.Option(help="Check the phases up to this one (default: the last).")] = None,
    backfill: BackfillOption = None,
    keep_global_unique: KeepGlobalUniqueOption = None,
    app_statements: Annotated[bool, typer.Option(
        "--app-statements/--no-app-statements",
        help="Also check the app's statements (pg_stat_statements) against every pending phase, on a schema-only "
             "scratch copy (needs CREATEDB; `tenant-migrate compat` alone).")] = True,
    as_json: JsonOption = False,
) -> None:
    """Check every phase still to apply against the database, changing nothing: each conflict on one line (what,
    what the plan needs, what is there, what to do; the rows of the app's in the way of a key it adds, by id), each
    warning (the app's tables that would mix tenants), then what is adopted and noted, then what each phase does to
    the app's own statements, then what stands between the database and Citus (phase 9,
    --to 9 on a Citus coordinator: there its refusals count); exit 1 on a conflict or an app statement that breaks."""
    target = target_dsn(dsn)
    if to is not None:
        phase(to)
    way, findings = runner.check(target, to, backfill, tuple(keep_global_unique or ()))
    refused = [f for f in findings if f.verdict == "refuse"]
    lines = [f"{describe(target)}: {len(refused)} conflicts, {sum(f.verdict == 'warn' for f in findings)} warnings, "
             f"{sum(f.verdict == 'adopt' for f in findings)} app objects adopted, "
             f"{sum(f.verdict == 'create' for f in findings)} objects to create ({way} way through phases 2-4)"]
    lines += findings_text(findings, ("refuse", "warn", "adopt", "note"))
    app, breaks = app_statement_lines(target) if app_statements else ([], False)
    lines += [f"  APP     {line}" for line in app]
    citus = [] if any(f.phase == readiness.PHASE for f in findings) else citus_lines(target)
    lines += [f"  CITUS   {line}" for line in citus]
    emit({"findings": [vars(f) | {"adopted": None} for f in findings], "app_statements": app,
          "app_breaks": breaks, "citus": citus}, as_json, "\n".join(lines))
    if refused or breaks:
        raise typer.Exit(1)


def citus_lines(dsn: str) -> list[str]:
    """Where phase 9 is not checked: what stands between the database and Citus (or what phase 9 would meet on a
    Citus coordinator), as information that never fails the check."""
    with connection(dsn) as conn:
        heading, lines = readiness.report(conn)
    return [f"{heading}:", *(lines or ["nothing (the tenant tables come with phases 1-8)"])]


def app_statement_lines(dsn: str) -> tuple[list[str], bool]:
    """The compatibility check's lines, and whether an app statement breaks; a check that cannot run (no scratch
    database allowed) is one line, not a failure of the whole check."""
    from tenant_migrate.compat import scratch  # noqa: PLC0415 - keeps `tenant-migrate --help` fast

    try:
        found = scratch.run(dsn)
    except MigrationError as exc:
        return [f"app statements not checked: {exc}"], False
    return found.lines(), found.breaks()


def status_command(dsn: DsnOption = None, as_json: JsonOption = False) -> None:
    """The ledger: each phase's state, last run, duration, backup and approval; and what the guard saw."""
    target = target_dsn(dsn)
    rows = runner.status(target)
    lines = [f"{describe(target)}", f"  {'phase':<34} {'state':<14} {'started':<20} {'seconds':>8} {'forecast':>9}  "
                                    "approved by"]
    for r in rows:
        started = f"{r['started_at']:%Y-%m-%d %H:%M:%S}" if r["started_at"] else "-"
        expected = f"{float(r['forecast_s']):.1f}" if r["forecast_s"] is not None else "-"
        lines.append(
            f"  {r['phase']} {r['name']:<32} {r['state']:<14} {started:<20} "
            f"{r['duration_s'] if r['duration_s'] is not None else '-':>8} {expected:>9}  {r['approved_by'] or '-'}"
        )
        if r["owns"]:
            lines.append("      owns " + ", ".join(f"{n} {kind}" for kind, n in sorted(r["owns"].items()))
                         + " (tenant_migrate.owned_objects; rollback undoes only the created)")
        if r["explanation"]:
            lines.append(f"      {r['explanation']}")
        if r["guard"]:
            lines.append(f"      {report.one_line(r['guard'])}" + ("" if r["guard_direction"] == "up" else
                                                               " (its rollback)"))
    emit(rows, as_json, "\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("plan")(fail_cleanly(plan_command))
    app.command("check")(fail_cleanly(check_command))
    app.command("status")(fail_cleanly(status_command))
