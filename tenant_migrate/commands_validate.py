"""The `validate` command: run a phase's Great Expectations suite against the database now.

Great Expectations is imported only when the command runs (tasks.validate imports it lazily).
"""

from __future__ import annotations

from typing import Annotated

import typer

from tenant_migrate.common import DsnOption, JsonOption, emit, fail_cleanly, target_dsn


@fail_cleanly
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
    from tasks import validate  # noqa: PLC0415 - keeps `tenant-migrate --help` fast

    validate.phase_name(phase)  # a bad phase number fails here, in one line, before any connection
    result = validate.validate_phase(target_dsn(dsn), phase, docs=not no_docs, admin_email=admin_email)
    lines = [validate.summary_line(result)]
    lines += [f"  FAILED {validate.failure_text(f)}" for f in result["failed"]]
    if result["data_docs"]:
        lines.append(f"Data Docs: {result['data_docs']}")
    emit(result, as_json, "\n".join(lines))
    if not result["success"]:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("validate")(validate_command)
