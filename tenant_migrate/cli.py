"""The `tenant-migrate` command line."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

import typer

from tasks import demo, embedded
from tasks.db import MigrationError, database_name, describe, with_database

DEMO_DATABASE = "whatsapp_legacy"

app = typer.Typer(
    help="Migrate a live single-tenant WhatsApp-automation PostgreSQL database to the multi-tenant "
    "schema, phase by phase. Commands that touch a database take --dsn or read DATABASE_URL; "
    "without either they use the embedded PostgreSQL server (started on demand).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Start or stop the embedded PostgreSQL server.", no_args_is_help=True)
app.add_typer(db_app, name="db")

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


@db_app.command("up")
@fail_cleanly
def db_up(as_json: JsonOption = False) -> None:
    """Start the embedded server (or reuse the running one) and print its DSN (no password)."""
    server = embedded.start()
    emit({"dsn": server, "data_dir": str(embedded.data_dir())}, as_json,
         f"embedded PostgreSQL running: {server}\ndata directory: {embedded.data_dir()}")


@db_app.command("down")
@fail_cleanly
def db_down() -> None:
    """Stop the embedded server (its data stays in the data directory)."""
    stopped = embedded.stop()
    typer.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")


@app.command("demo-db")
@fail_cleanly
def demo_db(
    scale: Annotated[float, typer.Option(help="1 = 10k contacts, 100k messages, 10k orders, 50 campaigns, "
                                         "50k subscribers; linear in scale.")] = 1.0,
    name: Annotated[str, typer.Option(help="Database to create on the embedded server.")] = DEMO_DATABASE,
    dsn: Annotated[str | None, typer.Option(help="Load into this existing, empty database instead "
                                           "(default: $DATABASE_URL).", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Create the legacy single-tenant demo database with deterministic synthetic data."""
    chosen = dsn or os.environ.get("DATABASE_URL")
    target = chosen or demo.create_database(embedded.start(), name)
    result = demo.load(target, scale)
    emit(result, as_json, f"loaded {database_name(target)} (scale {scale}) in {result['seconds']} s:\n"
         f"{counts_table(result['row_counts'])}\nDSN: {describe(target)}")


@app.command("demo")
@fail_cleanly
def demo_run(
    scale: Annotated[float, typer.Option(help="Size of the demo data (1 = 100k messages).")] = 1.0,
    as_json: JsonOption = False,
) -> None:
    """The main job on the embedded default: start the server, (re)create the demo database, load it.

    Only ever touches the embedded server's demo database, which it drops and recreates.
    """
    server = embedded.start()
    demo.drop_database(server, DEMO_DATABASE)
    result = demo.load(demo.create_database(server, DEMO_DATABASE), scale)
    emit(result, as_json, f"demo database {DEMO_DATABASE} (scale {scale}) loaded in {result['seconds']} s:\n"
         f"{counts_table(result['row_counts'])}\nDSN: {with_database(server, DEMO_DATABASE)}")


def main() -> None:
    app()


if __name__ == "__main__":
    sys.exit(main())
