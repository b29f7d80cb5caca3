"""Pieces every `tenant-migrate` command shares: options, the database, errors and output."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

import typer

from tenant_migrate import dsn as dsns
from tenant_migrate.errors import MigrationError

DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", help="PostgreSQL DSN of the target database, or the name of a Prefect Secret block "
                 "holding one (default: $DATABASE_URL, else the embedded server's demo database).",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON for scripts.")]
BackfillOption = Annotated[str | None, typer.Option(
    "--backfill", help="The way through phases 2-4: instant (default: tenant columns with DEFAULT 1, no row "
    "rewritten) or batched (nullable columns filled in primary-key batches); once phase 2 ran, its way.",
    show_default=False)]

KeepGlobalUniqueOption = Annotated[list[str] | None, typer.Option(
    "--keep-global-unique", show_default=False, metavar="COLUMN",
    help="Keep this value (phone_number, thread_id) unique across tenants: phase 5 leaves the app's own unique key "
    "on it beside the per-tenant one (for the app's tables that hold it without a tenant: docs/real-schemas.md). "
    "Repeatable.")]


def fail_cleanly(command: Callable) -> Callable:
    """Turn a MigrationError into one line on stderr and exit code 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MigrationError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper


def target_dsn(dsn: str | None) -> str:
    """The database to work on: --dsn, $DATABASE_URL, or the embedded server's demo database."""
    return dsns.resolve(dsn)


def show_logs(logger: str = "tenant_migrate") -> None:
    """The engine's progress lines (of `logger` and below) on the console (commands that run without a flow)."""
    logging.basicConfig(format="%(asctime)s %(message)s", datefmt="%H:%M:%S", level=logging.WARNING)
    logging.getLogger(logger).setLevel(logging.INFO)


def emit(result: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(result, indent=2, default=str) if as_json else text)


def counts_table(counts: dict[str, int]) -> str:
    width = max(map(len, counts), default=5)
    return "\n".join(f"  {table:<{width}}  {n:>12,}" for table, n in counts.items())
