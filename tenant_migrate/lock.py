"""The migration's advisory lock: one migration (or restore) at a time per database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from tenant_migrate.db import connect, scalar
from tenant_migrate.dsn import describe
from tenant_migrate.errors import MigrationError
from tenant_migrate.paths import read_sql

ADVISORY_LOCK_KEY = 0x74656E616E74  # "tenant"


@contextmanager
def migration_lock(dsn: str) -> Iterator[psycopg.Connection]:
    """Hold the migration's session advisory lock on this database, or fail at once."""
    conn = connect(dsn)
    try:
        if not scalar(conn, "SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)):
            holder = conn.execute(read_sql("catalog/lock_holder.sql"), {"key": ADVISORY_LOCK_KEY}).fetchone()
            who = f"pid {holder[0]}, {holder[1] or 'unknown client'}, connected {holder[3]:%Y-%m-%d %H:%M:%S}" \
                if holder else "another session"
            raise MigrationError(f"another migration is running on {describe(dsn)} ({who}): "
                                 "wait for it to finish, or stop it")
        try:
            yield conn
        finally:
            # released now, not when the server gets round to ending the closed session: a next run may start
            # at once (a dead connection has released it already)
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
    finally:
        conn.close()


def lock_is_free(conn: psycopg.Connection) -> bool:
    return conn.execute(read_sql("catalog/lock_holder.sql"), {"key": ADVISORY_LOCK_KEY}).fetchone() is None
