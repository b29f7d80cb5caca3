"""The legacy demo database: the single-tenant schema filled with deterministic synthetic data."""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import sql

from tenant_migrate import db
from tenant_migrate.db import LEGACY_TABLES, connection, row_counts, scalar
from tenant_migrate.dsn import describe, with_database
from tenant_migrate.errors import MigrationError
from tenant_migrate.paths import read_sql


def create_database(server_dsn: str, name: str) -> str:
    """Create an empty database on the server and return its DSN; refuse one that exists."""
    with connection(server_dsn) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            raise MigrationError(
                f"database {name!r} already exists on {describe(server_dsn)}: "
                "choose another --name or drop it first"
            )
        db.create_database(conn, name)
    return with_database(server_dsn, name)


def drop_database(server_dsn: str, name: str) -> None:
    with connection(server_dsn) as conn:
        db.drop_database(conn, name)


def fresh(server_dsn: str, name: str, scale: float) -> tuple[str, dict[str, Any]]:
    """A benchmark's scratch database: `name` made anew on the server and loaded at `scale`; its DSN, and what
    `load` says it loaded."""
    drop_database(server_dsn, name)
    dsn = create_database(server_dsn, name)
    return dsn, load(dsn, scale)


def load(dsn: str, scale: float) -> dict[str, Any]:
    """Load the legacy schema and data into an empty database, in one transaction.

    Returns the row counts and the load time. A database that already has tables in its public
    schema is refused and left untouched.
    """
    if scale <= 0:
        raise MigrationError(f"scale must be positive, got {scale}")
    with connection(dsn, autocommit=False) as conn:
        existing = conn.execute(read_sql("catalog/public_tables.sql")).fetchall()
        if existing:
            names = ", ".join(r[0] for r in existing[:5])
            raise MigrationError(
                f"{describe(dsn)} is not empty (public has {len(existing)} tables: {names}): "
                "load the demo into an empty database"
            )
        started = time.perf_counter()
        if scalar(conn, "SELECT current_setting('is_superuser') = 'on'"):
            # the generated rows reference only rows generated before them (tests check it): skipping the
            # per-row foreign-key triggers halves the load time (scale 10: 17 s instead of 37 s)
            conn.execute("SET LOCAL session_replication_role = replica")
        conn.execute("SELECT set_config('demo.scale', %s, true)", (str(scale),))
        conn.execute(read_sql("legacy/schema.sql"))
        conn.execute(read_sql("legacy/demo_data.sql"))
        conn.commit()
        seconds = time.perf_counter() - started
    with connection(dsn) as conn:
        started = time.perf_counter()
        settled(conn)
        vacuum_seconds = time.perf_counter() - started
        counts = row_counts(conn, LEGACY_TABLES)
    return {"database": describe(dsn), "scale": scale, "seconds": round(seconds, 2),
            "vacuum_seconds": round(vacuum_seconds, 2), "row_counts": counts}


def settled(conn: psycopg.Connection) -> None:
    """VACUUM (ANALYZE) the legacy tables, as autovacuum keeps a production database: a bulk load's first vacuum
    (hint bits, the visibility map: a write of every page) would otherwise start at a moment of autovacuum's
    choosing in the middle of whatever runs next, and the first reads would write every page for the hint bits."""
    tables = sql.SQL(", ").join(sql.Identifier("public", t) for t in LEGACY_TABLES)
    conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(tables))
