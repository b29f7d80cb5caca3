"""Connections and the small catalog queries every module shares."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from tenant_migrate.dsn import describe, scrub, with_database
from tenant_migrate.errors import MigrationError, first_line
from tenant_migrate.paths import read_sql

Row = TypeVar("Row")
LEGACY_TABLES = ("contacts", "messages", "orders", "campaigns", "campaign_subscribers")
APPLICATION_NAME = "tenant-migrate"  # every session of ours starts with it; the guard counts the others as the app
WORK_APPLICATION_NAME = f"{APPLICATION_NAME}/work"  # the session that runs the steps: the one the guard may cancel
TOOL_APPLICATION_NAME = f"{APPLICATION_NAME}/backup"  # pg_dump and pg_restore
VALIDATE_APPLICATION_NAME = f"{APPLICATION_NAME}/validate"  # Great Expectations' connections
GUARD_APPLICATION_NAME = f"{APPLICATION_NAME}/guard"  # the guard's own connection (tenant_migrate/guard)

# What to do about a failed connection, by the words of libpq's message (first match wins).
CONNECT_ADVICE = (
    ("password authentication failed", "check the password (PGPASSWORD, ~/.pgpass or the Prefect Secret block)"),
    ("no password supplied", "give the password in PGPASSWORD, ~/.pgpass or the Prefect Secret block"),
    ('database "', "check the database name in the DSN"),
    ('role "', "check the user name in the DSN"),
    ("", "check the host and port in the DSN, and that the server is running and reachable from here"),
)


def connect(dsn: str, *, autocommit: bool = True, application_name: str = APPLICATION_NAME,
            **params: Any) -> psycopg.Connection:
    """Open a connection, turning failures into a one-line MigrationError without the password:
    what failed, then what to do. `params`: more libpq connection parameters (keepalives)."""
    try:
        return psycopg.connect(
            dsn, autocommit=autocommit, connect_timeout=10, application_name=application_name, **params
        )
    except psycopg.OperationalError as exc:
        # libpq says 'connection to server at "h", port p failed: FATAL:  <reason>'; the reason is what matters
        reason = first_line(exc).rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
        reason = scrub(reason, dsn)
        advice = next(text for words, text in CONNECT_ADVICE if words in reason)
        raise MigrationError(f"cannot connect to {describe(dsn)}: {reason}: {advice}") from None


@contextmanager
def connection(dsn: str, *, autocommit: bool = True) -> Iterator[psycopg.Connection]:
    conn = connect(dsn, autocommit=autocommit)
    try:
        yield conn
    finally:
        conn.close()


def one(conn: psycopg.Connection[Row] | psycopg.Cursor[Row], query: Any, params: Any = None) -> Row:
    """The row of a query that returns exactly one (an aggregate, a catalog lookup of a known object)."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise MigrationError(f"expected a row from: {first_line(Exception(str(query)))}")
    return row


def scalar(conn: psycopg.Connection, query: Any, params: Any = None) -> Any:
    """The first column of the one row a query returns."""
    return one(conn, query, params)[0]


def server_pid(conn: psycopg.Connection) -> int:
    """The server process running `conn`'s statements now. conn.info.backend_pid is what the server said at login,
    and a pooler says a number of its own there (PgBouncer does in every mode)."""
    return int(scalar(conn, "SELECT pg_backend_pid()"))


def create_database(conn: psycopg.Connection, name: str, template: str | None = None) -> None:
    """Create database `name` on the server of `conn`: a copy of `template` (nobody may be connected to it), else
    an empty one."""
    query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
    conn.execute(query)


def drop_database(conn: psycopg.Connection, name: str) -> None:
    """Drop a database if it exists, disconnecting its sessions (PostgreSQL 13+)."""
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def scratch_database(server_dsn: str, name: str | None = None, template: str | None = None) -> Iterator[str]:
    """A new database on the server of `server_dsn` for the block (named `name`, else scratch_<random>; a copy of
    `template`, else empty): its DSN. Dropped on the way out, its sessions disconnected."""
    name = name or f"scratch_{secrets.token_hex(4)}"
    with connection(server_dsn) as conn:
        create_database(conn, name, template)
    try:
        yield with_database(server_dsn, name)
    finally:
        with connection(server_dsn) as conn:
            drop_database(conn, name)


INTEGER_KEYS = ("smallint", "integer", "bigint")
KEY_TYPES = (*INTEGER_KEYS, "uuid")  # the types of id the plan can step through in key ranges (batched steps)


def key_type(conn: psycopg.Connection, table: str) -> str | None:
    """The type of public.<table>.id (integer, bigint, uuid, ...), or None when it has no column id."""
    row = conn.execute("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = to_regclass(%s) "
                       "AND attname = 'id' AND NOT attisdropped", (f"public.{table}",)).fetchone()
    return row[0] if row else None


@dataclass(frozen=True)
class Counts:
    """The legacy tables' (row count, max id) counted in one statement each, and when (time.monotonic()). A phase's
    snapshot is one: the row-count check compares what the phase kept with it, and phase 4's backfill check tells
    the rows that were there before it (id up to max id) from the ones the app added since."""

    stats: dict[str, tuple[int, int | None]]
    kept: dict[str, int] = field(default_factory=dict)  # rows up to the max id of the snapshot they were counted since
    # table -> (rows without a tenant id, rows on a tenant other than 1), where they were counted (table_stats)
    tenants: dict[str, tuple[int, int]] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    def rows(self) -> dict[str, int]:
        return {table: n for table, (n, _) in self.stats.items()}

    def age(self) -> float:
        return time.monotonic() - self.at

    def off_tenant_1(self) -> dict[str, int]:
        """The rows not on tenant 1 (without a tenant id, or on another) of each table whose tenant ids were
        counted."""
        return {table: without + other for table, (without, other) in self.tenants.items()}


def columns(conn: psycopg.Connection, table: str) -> set[str]:
    """The columns of public.<table> (none when it does not exist)."""
    return {r[0] for r in conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped",
        (f"public.{table}",))}


def _tenant_figures(table_columns: set[str]) -> sql.Composable:
    """Two more aggregates of a count's scan, for a table with tenant ids (campaign_subscribers has user_id only):
    its rows without a tenant id, and its rows on a tenant other than 1."""
    ids = [sql.Identifier("t", c) for c in ("user_id", "chatbot_id") if c in table_columns]
    return sql.SQL(", count(*) FILTER (WHERE {}), count(*) FILTER (WHERE {})").format(
        sql.SQL(" OR ").join(sql.SQL("{} IS NULL").format(i) for i in ids),
        sql.SQL(" OR ").join(sql.SQL("{} <> 1").format(i) for i in ids))


def table_stats(conn: psycopg.Connection, since: dict[str, tuple[int, int | None]] | None = None,
                tenants: bool = False) -> Counts:
    """(row count, max id) of each legacy table; max id only of an integer id (a uuid has no order of insertion).
    With `since` (a phase's snapshot), in the same statement, the rows with an id up to the snapshot's max id: the
    rows that were there then and are still there, whatever the app added since (all rows where it has no max id).
    One scan counts the rows; the max id and the rows above the snapshot's (the few the app added) are read from
    the index on id where there is one, instead of testing every row's id (10M messages, vacuumed: 0.3 s, not 0.7).
    With `tenants`, the same scan counts the rows off tenant 1 of each table that has tenant ids (Counts.tenants),
    which the checks of phases 4 and 5 then read instead of scanning the table again (10M messages: 0.2 s more)."""
    stats, kept, figures = {}, {}, {}
    for table in LEGACY_TABLES:
        name = sql.Identifier("public", table)
        highest = sql.SQL("(SELECT max(id) FROM {})").format(name) if key_type(conn, table) in INTEGER_KEYS \
            else sql.SQL("NULL::bigint")
        before = (since or {}).get(table, (0, None))[1]
        newer = sql.SQL("(SELECT count(*) FROM {} WHERE id > {} OR id IS NULL)").format(name, sql.Literal(before)) \
            if before is not None else sql.SQL("0")
        have = columns(conn, table) if tenants else set()
        extra = _tenant_figures(have) if "user_id" in have else sql.SQL("")
        query = sql.SQL("SELECT {}, {}, c.* FROM (SELECT count(*){} FROM {} AS t) AS c").format(
            highest, newer, extra, name)
        max_id, added, count, *off = one(conn, query)
        stats[table], kept[table] = (count, max_id), count - added
        if off:
            figures[table] = (off[0], off[1])
    return Counts(stats, kept, figures)


def row_counts(conn: psycopg.Connection, tables: tuple[str, ...] = LEGACY_TABLES) -> dict[str, int]:
    """Exact row counts of the given public tables (missing tables are left out)."""
    existing = {r[0] for r in conn.execute(read_sql("catalog/public_tables.sql")).fetchall()}
    counts = {}
    for table in tables:
        if table in existing:
            query = sql.SQL("SELECT count(*) FROM public.{}").format(sql.Identifier(table))
            counts[table] = scalar(conn, query)
    return counts


def table_key(schema: str, table: str) -> str:
    """How a table is named in row counts: `contacts` in public, `tenant_migrate.phase_runs` elsewhere."""
    return table if schema == "public" else f"{schema}.{table}"


def table_rows(conn: psycopg.Connection, schemas: list[str] | None = None) -> dict[str, int]:
    """Exact row counts of every table a dump holds (sql/backup/tables.sql), or of those in `schemas`."""
    counts = {}
    for schema, table in conn.execute(read_sql("backup/tables.sql"), {"schemas": schemas}).fetchall():
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(schema), sql.Identifier(table))
        counts[table_key(schema, table)] = scalar(conn, query)
    return counts


def cluster_id(conn: psycopg.Connection) -> str:
    """The cluster's system identifier: the same for every database of one server, and only of that server; ''
    when this role may not call pg_control_system() (executable by everyone unless a DBA revoked it)."""
    if not scalar(conn, "SELECT has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')"):
        return ""
    return str(scalar(conn, "SELECT system_identifier FROM pg_control_system()"))


def catalog_shape(conn: psycopg.Connection) -> list[tuple]:
    """The public schema's shape: tables, columns, types, nullability, defaults, constraints, indexes."""
    return [tuple(r) for r in conn.execute(read_sql("catalog/shape.sql")).fetchall()]


def catalog_search_path(conn: psycopg.Connection) -> psycopg.Connection:
    """Pin the search_path of a session of ours that reads only the catalog and schema-qualified objects to
    pg_catalog: an unqualified function or operator is then PostgreSQL's own, never one that someone who may create
    objects in public made to fit our arguments better (format(text, text) taking over format(text, VARIADIC "any"),
    and running as our role)."""
    conn.execute("SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', false)")
    return conn
