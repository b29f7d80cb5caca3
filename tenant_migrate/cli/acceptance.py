"""The `acceptance` command: the acceptance checklist (the plan's "Testing & Validation"), measured now."""

from __future__ import annotations

from typing import Annotated

import typer

from tenant_migrate.acceptance import LOAD_SECONDS, LOAD_TENANTS
from tenant_migrate.cli.common import DsnOption, JsonOption, emit, fail_cleanly, target_dsn
from tenant_migrate.options import check_acceptance_load


def acceptance_command(
    dsn: DsnOption = None,
    as_json: JsonOption = False,
    load_seconds: Annotated[float, typer.Option(help="How long the concurrent multi-tenant load runs.")] = LOAD_SECONDS,
    load_tenants: Annotated[int, typer.Option(help="How many tenants write and read at once.")] = LOAD_TENANTS,
) -> None:
    """Run every line of the acceptance checklist on the migrated database (leaves no rows); exit 1 if one fails."""
    from tenant_migrate.acceptance import checklist  # noqa: PLC0415 - keeps `tenant-migrate --help` fast

    check_acceptance_load(load_tenants, load_seconds)
    lines = checklist.run_checklist(target_dsn(dsn), load_tenants=load_tenants, load_seconds=load_seconds)
    text = [f"{'pass' if x['ok'] else 'FAIL'}  {x['section']}: {x['check']}\n      {x['evidence']}" for x in lines]
    emit(lines, as_json, "\n".join([*text, checklist.summary(lines)]))
    if not all(x["ok"] for x in lines):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("acceptance")(fail_cleanly(acceptance_command))
