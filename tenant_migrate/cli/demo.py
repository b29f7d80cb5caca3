"""The commands of the embedded default: `db up`/`db down` (the embedded server), `demo-db` (the legacy demo
database) and `demo` (the main job: the demo database, migrated)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from tenant_migrate import demo, embedded
from tenant_migrate.cli.common import JsonOption, counts_table, emit, fail_cleanly
from tenant_migrate.dsn import database_name, describe, with_database
from tenant_migrate.embedded import DEMO_DATABASE


def db_up(as_json: JsonOption = False) -> None:
    """Start the embedded server (or reuse the running one) and print its DSN (no password)."""
    server = embedded.start()
    emit({"dsn": server, "data_dir": str(embedded.data_dir())}, as_json,
         f"embedded PostgreSQL running: {server}\ndata directory: {embedded.data_dir()}")


def db_down() -> None:
    """Stop the embedded server (its data stays in the data directory)."""
    stopped = embedded.stop()
    typer.echo("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")


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


def demo_run(
    scale: Annotated[float, typer.Option(help="Size of the demo data (1 = 100k messages).")] = 1.0,
    as_json: JsonOption = False,
) -> None:
    """The main job on the embedded default: (re)create the demo database and migrate it, auto-approved.

    Only ever touches the embedded server's demo database, which it drops and recreates.
    """
    from tenant_migrate.cli.flows import flow_table, run_flow  # noqa: PLC0415 - imports Prefect: keeps `--help` fast
    from tenant_migrate.flows.migrate import migrate  # noqa: PLC0415

    server = embedded.start()
    target = with_database(server, DEMO_DATABASE)
    demo.drop_database(server, DEMO_DATABASE)
    loaded = demo.load(demo.create_database(server, DEMO_DATABASE), scale)
    typer.echo(f"demo database {DEMO_DATABASE} (scale {scale}) loaded in {loaded['seconds']} s:\n"
               f"{counts_table(loaded['row_counts'])}", err=as_json)
    rows = run_flow(migrate, database=target, approval="auto")
    emit({"loaded": loaded, "phases": rows}, as_json, f"migrated {describe(target)} (approval auto):\n"
         f"{flow_table(rows)}\nDSN: {target}\nnext: `tenant-migrate status`, `tenant-migrate rollback --to 0 "
         "--approval auto`")


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Start or stop the embedded PostgreSQL server.", no_args_is_help=True)
    db_app.command("up")(fail_cleanly(db_up))
    db_app.command("down")(fail_cleanly(db_down))
    app.add_typer(db_app, name="db")
    app.command("demo-db")(fail_cleanly(demo_db))
    app.command("demo")(fail_cleanly(demo_run))
