"""Pieces every `tenant-migrate` command shares: options, DSN choice, error and output handling."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

import typer

from tasks import embedded
from tasks.db import MigrationError, describe, with_database

DEMO_DATABASE = "whatsapp_legacy"

DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", help="PostgreSQL DSN of the target database (default: $DATABASE_URL, "
                 "else the embedded server's demo database).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON for scripts.")]


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


def target_dsn(dsn: str | None, default_database: str = DEMO_DATABASE) -> str:
    """The database to work on: --dsn, $DATABASE_URL, or the embedded server's demo database."""
    chosen = dsn or os.environ.get("DATABASE_URL")
    if chosen:
        describe(chosen)  # a malformed DSN fails here, with one line
        return chosen
    return with_database(embedded.start(), default_database)


def emit(result: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(result, indent=2, default=str) if as_json else text)


def counts_table(counts: dict[str, int]) -> str:
    width = max(map(len, counts), default=5)
    return "\n".join(f"  {table:<{width}}  {n:>12,}" for table, n in counts.items())


