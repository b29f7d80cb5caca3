"""The app's statements at each phase: checked just before the phase is applied and again before its go/no-go, on
the database being migrated (the statements come from `app_dsn`: that same database, or the dry run's source).

The check is advice, never a stop: without pg_stat_statements, or if the check itself fails, the gate says so in
one line and the migration goes on.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg
from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tenant_migrate.compat.findings import Checks, compare, gate_section, summary, unchecked, unchecked_line
from tenant_migrate.compat.prepare import check_all
from tenant_migrate.compat.statements import Statement, read
from tenant_migrate.errors import MigrationError, first_line
from tenant_migrate.evidence import md_text
from tenant_migrate.plan import Phase


@dataclass(frozen=True)
class Before:
    """The statements and how they stood before the phase; `note` is the one line when nothing was checked."""

    statements: list[Statement] = field(default_factory=list)
    checks: Checks = field(default_factory=dict)
    note: str = ""
    notes: list[str] = field(default_factory=list)


@task(name="app statements before", cache_policy=NO_CACHE)
def compat_before_task(app_dsn: str, dsn: str) -> Before:
    """Read the app's statements from pg_stat_statements of `app_dsn` and check them against `dsn` as it is now.
    Why nothing was checked is the note (the flow logs it once per run, not once per phase)."""
    try:
        app = read(app_dsn)
        if app.unavailable:
            return Before(note=app.unavailable)
        return Before(app.statements, check_all(dsn, app.statements), notes=app.notes)
    except (MigrationError, psycopg.Error) as exc:
        return Before(note=f"app statements not checked: {first_line(exc)}")


@task(name="app statements after", cache_policy=NO_CACHE)
def compat_after_task(dsn: str, target: Phase, before: Before, compared: bool = True) -> dict[str, Any]:
    """Check them again after the phase: the gate's section, the one-line summary, the findings (each its kind and
    its line) and the statements left unchecked, and the artifact
    `app-statements-phase-N`, and `note`: why nothing was checked, if so. `compared=False`: the phase was applied
    by an earlier run, `before` is its state after it; nothing to compare, what fails now is listed."""
    note, notes = before.note, list(before.notes)
    findings = []
    if not note and compared:
        try:
            findings = compare(before.statements, before.checks, check_all(dsn, before.statements), target.number,
                               target.name)
        except (MigrationError, psycopg.Error) as exc:
            note = f"app statements not checked after the phase: {first_line(exc)}"
    elif not note:
        notes.append("not compared with before this phase: an earlier run applied it")
    section = gate_section(before.statements, before.checks, findings, note)
    if notes and not note:
        section += "\n\n" + "\n".join(f"Note: {md_text(n)}" for n in notes)
    result: dict[str, Any] = {
        "summary": note or summary(before.statements, before.checks, findings),
        "note": note,
        "section": section,
        "findings": [{"kind": f.kind, "line": f.line()} for f in findings],
        "unchecked": [unchecked_line(s, r) for s, r in unchecked(before.statements, before.checks)],
    }
    create_markdown_artifact(section, key=f"app-statements-phase-{target.number}", description=result["summary"])
    for finding in findings:
        get_run_logger().warning("%s", finding.line())
    return result


@task(name="app statements report", cache_policy=NO_CACHE)
def app_statements_report_task(phases: list[dict[str, Any]]) -> list[str]:
    """The dry run's findings about the app's statements, phase by phase, then the statements that could not be
    checked before the first phase, as the artifact `dry-run-app-statements` (one line each) and as its result."""
    found = [f for row in phases for f in row["app_findings"]]
    not_checked = phases[0]["app_unchecked"] if phases else []  # before the first phase: the same at every phase
    lines = [f["line"] for f in found] + not_checked
    last = phases[-1]["app_statements"] if phases else "no phase applied"
    count = Counter(f["kind"] for f in found)
    total = (f"through phases {phases[0]['phase']}-{phases[-1]['phase']}: {count['breaks']} break, "
             f"{count['changes meaning']} changes of meaning, {len(not_checked)} not checked, of "
             f"{last.split(':')[0]}" if phases and " app statements (" in last else last)
    create_markdown_artifact("\n".join(["### App statements through the dry run", "",
                                        *(f"- {md_text(x)}" for x in lines), "", md_text(total)]),
                             key="dry-run-app-statements", description=total)
    return [*lines, total]
