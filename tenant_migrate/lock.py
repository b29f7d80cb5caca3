"""The migration's advisory lock: one migration (or restore) at a time per database; and the acceptance checklist's.

The lock lives as long as its session. It is taken only on a connection proven to be a real session (no
transaction or statement pooler in between: tenant_migrate.pooler), which is made to last (TCP keepalives, no
idle-session timeout), and released explicitly on every way out. The runner confirms it still holds the lock
before every step and every batch (`confirm_held`): a session that died alone (a proxy, a timeout,
pg_terminate_backend) releases the lock, and another migration could then start beside this one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from tenant_migrate.db import connect, scalar
from tenant_migrate.dsn import describe
from tenant_migrate.errors import LockHeld, LockLost, first_line
from tenant_migrate.paths import read_sql
from tenant_migrate.pooler import require_session

log = logging.getLogger("tenant_migrate.lock")
ADVISORY_LOCK_KEY = 0x74656E616E74  # "tenant"
CHECKLIST_LOCK_KEY = ADVISORY_LOCK_KEY + 1  # the acceptance checklist's own: it runs beside the migration's
# libpq: probe an idle connection after 30 s, every 10 s, give up after 3 misses (a silent peer is seen in 1 min)
KEEPALIVES: dict[str, Any] = {"keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}


@contextmanager
def migration_lock(dsn: str, purpose: str = "") -> Iterator[psycopg.Connection]:
    """Hold the migration's session advisory lock on this database, or fail at once. `purpose` (for example
    "restore backup X into") words the refusal for a caller that is not a migration."""
    conn = connect(dsn, **KEEPALIVES)
    held = False
    try:
        require_session(conn, dsn)
        if conn.info.server_version >= 140000:  # a role's or database's idle_session_timeout must not end it
            conn.execute("SET idle_session_timeout = 0")
        conn.execute("SET idle_in_transaction_session_timeout = 0")
        held = scalar(conn, "SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        if not held:
            who = holder_text(lock_holder(conn))
            if purpose:
                raise LockHeld(f"cannot {purpose} {describe(dsn)}: a migration is running on it or waiting at "
                               f"a gate ({who}): wait for it to finish, or stop it first", holder=who)
            raise LockHeld(f"another migration is running on {describe(dsn)} ({who}): "
                           "wait for it to finish, or stop it", holder=who)
        yield conn
    finally:
        if held:
            release(conn)
        conn.close()


def release(conn: psycopg.Connection) -> None:
    """Release the lock now, not when the server gets round to ending the closed session, so that a next run may
    start at once. A session that ended has released it already."""
    with contextlib.suppress(psycopg.Error):
        if not scalar(conn, "SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,)):
            log.warning("the migration's advisory lock was no longer held by its session when the run ended")


@contextmanager
def checklist_lock(conn: psycopg.Connection, dsn: str) -> Iterator[None]:
    """One acceptance checklist at a time per database, held by the session of `conn`, or fail at once. On a Citus
    coordinator a checklist commits tenants of its own and removes every checklist tenant it finds when it starts and
    ends: a second checklist beside it would remove the first one's tenants midway."""
    require_session(conn, dsn)
    if not scalar(conn, "SELECT pg_try_advisory_lock(%s)", (CHECKLIST_LOCK_KEY,)):
        who = holder_text(lock_holder(conn, CHECKLIST_LOCK_KEY))
        raise LockHeld(f"another acceptance checklist is running on {describe(dsn)} ({who}): wait for it to finish, "
                       "then run it again", holder=who)
    try:
        yield
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.execute("SELECT pg_advisory_unlock(%s)", (CHECKLIST_LOCK_KEY,))


def lock_holder(conn: psycopg.Connection, key: int = ADVISORY_LOCK_KEY) -> tuple[Any, ...] | None:
    """(pid, application_name, client_addr, backend_start) of the session holding the lock, or None."""
    return conn.execute(read_sql("catalog/lock_holder.sql"), {"key": key}).fetchone()


def holder_text(holder: tuple[Any, ...] | None) -> str:
    if holder is None:
        return "another session"
    return f"pid {holder[0]}, {holder[1] or 'unknown client'}, connected {holder[3]:%Y-%m-%d %H:%M:%S}"


def lock_is_free(conn: psycopg.Connection) -> bool:
    return lock_holder(conn) is None


def confirm_held(conn: psycopg.Connection, what: str) -> None:
    """Raise LockLost unless the session of `conn` still holds the migration lock; `what` is about to run."""
    try:
        held = scalar(conn, read_sql("catalog/lock_held.sql"), {"key": ADVISORY_LOCK_KEY})
        reason = "its session no longer holds it"
    except psycopg.Error as exc:
        held, reason = False, f"its session ended: {first_line(exc)}"
    if not held:
        raise LockLost(f"the migration lost its advisory lock ({reason}), so another migration could start: "
                       f"stopped before {what}; check `tenant-migrate status`, then run again to resume")


def lock_guard(conn: psycopg.Connection) -> Callable[[str], None]:
    """A runner guard (Settings.guards) that stops the phase as soon as the lock is lost."""
    return lambda what: confirm_held(conn, what)
