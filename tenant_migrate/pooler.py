"""Is a connection pooler between us and PostgreSQL, and does it keep our session? Asked before any change.

The migration needs real sessions: its advisory lock, its session settings and its prepared statements live in
one server process. A pooler in transaction (or statement) mode runs each of our transactions on whichever server
connection is free, so the lock would stay behind on one of them and the run would lose it (issue 23).

How we tell, cheaply and without leaving anything behind:
- PostgreSQL tells each client its process id at login (BackendKeyData, `conn.info.backend_pid`). When the server
  process that runs our statements (`pg_backend_pid()`) is that one, nothing re-keyed the connection: a direct
  connection (or a plain TCP proxy): a real session, and nothing more to ask.
- Otherwise a pooler answered the login (PgBouncer gives every client a key of its own, in every mode), and two
  connections find out its mode: while the first is between two statements, the second opens a transaction. A
  transaction pooler hands the second the first one's server process (PgBouncer reuses the last one released),
  or moves the first to another one; a session pooler does neither. A statement pooler refuses the transaction.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from tenant_migrate.db import APPLICATION_NAME, connect, scalar, server_pid
from tenant_migrate.dsn import describe, scrub
from tenant_migrate.errors import PoolerRefused, first_line

log = logging.getLogger("tenant_migrate.pooler")
PROBE_APPLICATION_NAME = f"{APPLICATION_NAME}/probe"
ROUNDS = 3  # a pooler that handed the server process elsewhere in between (live traffic) is caught by a later round
WAIT_S = 10.0  # for a server connection from the pooler; PgBouncer ignores a cancel while a client waits for one
ADMIN_CONSOLE = "pgbouncer"  # PgBouncer's own database: SHOW VERSION, for the admin_users and stats_users


def require_session(conn: psycopg.Connection, dsn: str) -> None:
    """Refuse, in one line and before any change, a transaction or statement pooler between `conn` (a connection
    to `dsn`) and PostgreSQL; a direct connection or a session pooler passes."""
    if server_pid(conn) == conn.info.backend_pid:
        return
    mode = pooling_mode(conn, dsn)
    if mode == "session":
        log.info("%s: through a connection pooler in session mode (a server connection of our own per "
                 "connection): fine for the migration", describe(dsn))
        return
    raise PoolerRefused(
        f"{describe(dsn)} is {pooler_name(dsn)} in {mode} pooling mode, not PostgreSQL itself: each {mode} may run on "
        "another server connection, so the migration's advisory lock and session would not hold; give the migration "
        "a direct DSN (--dsn with the PostgreSQL server's own host and port, or a second Prefect Secret block holding "
        "it) or a pool in session mode (docs/poolers.md)", mode=mode)


def pooling_mode(conn: psycopg.Connection, dsn: str) -> str:
    """'transaction', 'statement' or 'session': how the pooler that answered `conn`'s login shares server
    connections, found with a second connection (see the module's docstring)."""
    other = connect(dsn, application_name=PROBE_APPLICATION_NAME)
    try:
        for _ in range(ROUNDS):
            mine = server_pid(conn)
            try:
                with cut_after(other, WAIT_S):
                    other.execute("BEGIN")
                    theirs = server_pid(other)
            except psycopg.Error as exc:  # PgBouncer: "transaction blocks not allowed in statement pooling mode"
                if "statement pooling" in str(exc):
                    return "statement"
                why = f"no server connection within {WAIT_S:g} s" if other.broken else scrub(first_line(exc), dsn)
                raise PoolerRefused(
                    f"{describe(dsn)} is a connection pooler, and a second connection of the migration got {why}: "
                    "in session mode each connection of ours (lock, steps, guard, validation, pg_dump) needs a "
                    "server connection of its own: raise the pool's size for this database and user, or give the "
                    "migration a direct DSN (docs/poolers.md)", mode="session") from None
            moved = theirs == mine or server_pid(conn) != mine  # ours went to them, or we went elsewhere
            other.execute("ROLLBACK")
            if moved:
                return "transaction"
        return "session"
    finally:
        other.close()


@contextmanager
def cut_after(conn: psycopg.Connection, seconds: float) -> Iterator[None]:
    """Shut `conn`'s socket down if the block takes longer than `seconds` (its statement then fails at once)."""

    def cut() -> None:
        with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
            sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(seconds, cut)
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def pooler_name(dsn: str) -> str:
    """'PgBouncer 1.18.0' from PgBouncer's admin console when this role may read it, 'PgBouncer' when the console
    refused it, else 'a connection pooler' (whatever answers at the DSN's host and port)."""
    try:
        with psycopg.connect(dsn, dbname=ADMIN_CONSOLE, autocommit=True, connect_timeout=5,
                             application_name=PROBE_APPLICATION_NAME) as console:
            return str(scalar(console, "SHOW VERSION"))
    except psycopg.Error as exc:
        return "PgBouncer" if "not allowed" in str(exc) else "a connection pooler"
