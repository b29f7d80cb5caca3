"""The `validate` command: run a phase's Great Expectations suite against the database now.

Great Expectations is imported only when the command runs (tenant_migrate.validation imports it lazily).
"""

from __future__ import annotations

from typing import Annotated

import typer

from tenant_migrate.cli.common import DsnOption, JsonOption, emit, fail_cleanly, target_dsn
from tenant_migrate.plan import phase as plan_phase
from tenant_migrate.validation.results import failure_text, summary_line


def validate_command(
    phase: Annotated[int, typer.Option("--phase", help="Phase number of sql/plan.toml whose suite to run.")],
    dsn: DsnOption = None,
    as_json: JsonOption = False,
    no_docs: Annotated[bool, typer.Option("--no-docs", help="Skip rendering Data Docs (HTML).")] = False,
    admin_email: Annotated[str | None, typer.Option(
        help="Email phase 3 gave the admin user (default $TENANT_MIGRATE_ADMIN_EMAIL, else the plan's).",
        show_default=False)] = None,
) -> None:
    """Check that phase N is correctly applied (its expectations/<phase>.json suite); exit 1 if not."""
    from tenant_migrate.validation.checkpoints import validate_phase  # noqa: PLC0415 - keeps `--help` fast

    plan_phase(phase)  # a bad phase number fails here, in one line, before any connection
    result = validate_phase(target_dsn(dsn), phase, docs=not no_docs, admin_email=admin_email)
    lines = [summary_line(result)]
    lines += [f"  FAILED {failure_text(f)}" for f in result["failed"]]
    if result["data_docs"]:
        lines.append(f"Data Docs: {result['data_docs']}")
    emit(result, as_json, "\n".join(lines))
    if not result["success"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("validate")(fail_cleanly(validate_command))
