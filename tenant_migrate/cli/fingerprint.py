"""The `fingerprint` command: a content fingerprint of the app's tables, kept and compared."""

from __future__ import annotations

from typing import Annotated

import typer

from tenant_migrate import fingerprint as fingerprints
from tenant_migrate.cli.common import DsnOption, JsonOption, emit, fail_cleanly, target_dsn
from tenant_migrate.db import connection
from tenant_migrate.dsn import describe
from tenant_migrate.errors import MigrationError


def fingerprint_command(
    dsn: DsnOption = None,
    save: Annotated[str | None, typer.Option(help="Keep it in the ledger under this label (writes only to the "
                                             "schema tenant_migrate).", show_default=False)] = None,
    compare: Annotated[str | None, typer.Option(
        help="Compare with the fingerprint kept under this label, over its tables and columns; exit 1 on a "
             "difference.", show_default=False)] = None,
    as_json: JsonOption = False,
) -> None:
    """Fingerprint every table of the app's over its own columns, in one snapshot: rows and a hash per chunk."""
    target = target_dsn(dsn)
    before = None
    if compare:
        with connection(target) as conn:
            before = fingerprints.load(conn, compare)
        if before is None:
            raise MigrationError(f"no fingerprint labelled {compare!r} in the ledger of {describe(target)}: take one "
                                 f"with --save {compare}")
    now = fingerprints.take(target, before.columns if before else None)
    if save:
        with connection(target) as conn:
            fingerprints.save(conn, save, now)
    found = fingerprints.differences(before, now) if before else []
    rate = now.rows / now.seconds if now.seconds else 0.0
    lines = [f"{describe(target)}: {len(now.chunks)} tables, {now.rows:,} rows in {now.seconds:.1f} s "
             f"({rate:,.0f} rows/s)"]
    lines += [f"  {t}: {sum(n for n, _ in c.values()):,} rows in {len(c)} chunks"
              for t, c in sorted(now.chunks.items())]
    if before:
        lines.append(f"compared with {compare!r}: " + ("identical" if not found else f"{len(found)} differences"))
        lines += [f"  DIFFERS {line}" for line in found]
    emit({"rows": now.rows, "seconds": now.seconds, "tables": {t: len(c) for t, c in now.chunks.items()},
          "differences": found}, as_json, "\n".join(lines))
    if found:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("fingerprint")(fail_cleanly(fingerprint_command))
