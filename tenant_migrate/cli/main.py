"""The `tenant-migrate` command line."""

from __future__ import annotations

import importlib
import pkgutil

import typer

from tenant_migrate import cli

app = typer.Typer(
    help="Migrate a live single-tenant WhatsApp-automation PostgreSQL database to the multi-tenant "
    "schema, phase by phase. Commands that touch a database take --dsn or read DATABASE_URL; "
    "without either they use the embedded PostgreSQL server (started on demand).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


FIRST_IN_HELP = ("demo", "plan", "flows")  # the first run's commands, then the rest by module name


def _register_command_modules() -> None:
    """Each other module of cli/ adds its commands through register(app)."""
    names = sorted(m.name for m in pkgutil.iter_modules(cli.__path__) if m.name not in ("main", "common"))
    for name in [*FIRST_IN_HELP, *(n for n in names if n not in FIRST_IN_HELP)]:
        importlib.import_module(f"{cli.__name__}.{name}").register(app)


_register_command_modules()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
