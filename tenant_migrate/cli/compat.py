"""The `compat` command: the app's own statements, checked against every phase still to apply."""

from __future__ import annotations

import typer

from tenant_migrate.cli.common import DsnOption, JsonOption, emit, fail_cleanly, show_logs, target_dsn


def compat_command(dsn: DsnOption = None, as_json: JsonOption = False) -> None:
    """Check the app's statements (from pg_stat_statements) against every pending phase, on a schema-only scratch
    copy of the database (dropped after; the database itself is only read). Exit 1 if a statement breaks."""
    from tenant_migrate.compat import scratch  # noqa: PLC0415 - keeps `tenant-migrate --help` fast

    if not as_json:
        show_logs("tenant_migrate.compat")
    found = scratch.run(target_dsn(dsn))
    emit({"database": found.database, "breaks": found.breaks(), "lines": found.lines()}, as_json,
         "\n".join(found.lines()))
    if found.breaks():
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("compat")(fail_cleanly(compat_command))
