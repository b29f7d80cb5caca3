"""What a flow holds for its whole run: the database it works on, and the migration's lock on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tenant_migrate import dsn as dsns
from tenant_migrate import lock
from tenant_migrate.backup.store import backup_root

__all__ = ["backup_folder", "backup_root", "migration_lock", "resolve_database"]


def resolve_database(database: str | None) -> str:
    """The DSN for a flow's `database` parameter: a DSN without password, a Prefect Secret block name, or empty
    for $DATABASE_URL (else the embedded demo database)."""
    return dsns.resolve(database, stored=True)


@contextmanager
def migration_lock(dsn: str) -> Iterator[psycopg.Connection]:
    """The migration's advisory lock on the database, held by an autocommit connection that also writes the
    ledger; a transaction pooler in the DSN is refused first, and a second run fails at once naming the first."""
    with lock.migration_lock(dsn) as conn:
        yield conn


def backup_folder(backups: bool, backup_dir: str | None) -> Path | None:
    """Where the flow's backups go, or None when backups are off."""
    return backup_root(backup_dir) if backups else None
