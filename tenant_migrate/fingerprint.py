"""Proof that nothing of the app's changed: a content fingerprint of every table of the app's, over its columns.

For each table and chunk of rows (chunk n: primary-key values n*100,000 to (n+1)*100,000-1; with another
primary key, a bucket of its hash; without one, of the row's): the row count and the sum of the rows' 64-bit
hashes.
Everything is read in one snapshot, shared by a few connections that read tables side by side
(pg_export_snapshot). Two fingerprints
over the same columns are equal when, and as far as 64-bit hashes tell, only when, the rows are the same;
a difference is named by table and chunk. Columns and tables the migration created are left out, so the
fingerprint before phase 1 and after the last phase compare the app's data only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import errors, sql

from tenant_migrate import ledger, ownership
from tenant_migrate.db import connect, scalar
from tenant_migrate.paths import read_sql

CHUNK_ROWS = 100_000
HASH_BUCKETS = 64
WORKERS = 2

Chunks = dict[int, tuple[int, int]]  # chunk -> (rows, hash)


@dataclass
class Fingerprint:
    columns: dict[str, list[str]]  # table -> its app columns
    chunks: dict[str, Chunks]  # table -> chunks
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(n for chunks in self.chunks.values() for n, _ in chunks.values())


@dataclass(frozen=True)
class ChunkKey:
    """How a table's rows are chunked: by its primary key (ranges of an integer one), else by the row."""

    columns: tuple[str, ...]
    integer: bool


def tables(conn: psycopg.Connection) -> dict[str, tuple[ChunkKey, list[str]]]:
    """The app's tables: (their primary key, their app columns)."""
    created = ownership.created_keys(conn) if ledger.exists(conn) else set()
    rows = conn.execute(read_sql("fingerprint/tables.sql"), {
        "created_tables": [name for kind, _, name in created if kind == "table"],
        "created_columns": [f"{table}.{name}" for kind, table, name in created if kind == "column"]})
    return {table: (ChunkKey(tuple(pk or ()), bool(integer)), list(columns)) for table, pk, integer, columns in rows}


def _hashed(columns: list[str] | tuple[str, ...], as_text: bool) -> sql.Composed:
    row = sql.SQL("ROW({})").format(sql.SQL(", ").join(sql.Identifier("t", c) for c in columns))
    return sql.SQL("hashtextextended({}::text, 0)").format(row) if as_text else \
        sql.SQL("hash_record_extended({}, 0)").format(row)


def _query(table: str, key: ChunkKey, columns: list[str], as_text: bool) -> sql.Composed:
    hashed = _hashed(columns, as_text)
    if key.integer:
        chunk = sql.SQL("{} / {}").format(sql.Identifier("t", key.columns[0]), sql.Literal(CHUNK_ROWS))
    else:
        chunk = sql.SQL("abs({} % {})").format(_hashed(key.columns, True) if key.columns else hashed,
                                               sql.Literal(HASH_BUCKETS))
    return sql.SQL("SELECT {} AS chunk, count(*), sum({}) FROM public.{} AS t GROUP BY 1").format(
        chunk, hashed, sql.Identifier(table))


def _read(conn: psycopg.Connection, table: str, key: ChunkKey, columns: list[str]) -> Chunks:
    """One table's chunks. A column type without a hash function (json, say) makes the rows hash as text."""
    try:
        with conn.transaction():
            rows = conn.execute(_query(table, key, columns, as_text=False)).fetchall()
    except (errors.UndefinedFunction, errors.FeatureNotSupported):
        rows = conn.execute(_query(table, key, columns, as_text=True)).fetchall()
    return {int(chunk): (int(n), int(h)) for chunk, n, h in rows}


@contextmanager
def _snapshot_sessions(dsn: str, count: int) -> Iterator[list[psycopg.Connection]]:
    """`count` read-only connections that all see the same snapshot."""
    sessions = [connect(dsn, autocommit=False) for _ in range(count)]
    try:
        sessions[0].execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = scalar(sessions[0], "SELECT pg_export_snapshot()")
        for other in sessions[1:]:
            other.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            other.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        yield sessions
    finally:
        for session in sessions:
            session.close()


def take(dsn: str, columns: dict[str, list[str]] | None = None) -> Fingerprint:
    """The fingerprint of the app's tables now; with `columns`, of exactly those tables and columns (to compare with
    an earlier fingerprint: the columns the migration added since are left out)."""
    started = time.perf_counter()
    with _snapshot_sessions(dsn, WORKERS) as sessions:
        found = tables(sessions[0])
        chosen = columns if columns is not None else {t: cols for t, (_, cols) in found.items()}
        work = [(t, found[t][0], cols) for t, cols in chosen.items() if t in found]
        with ThreadPoolExecutor(max_workers=len(sessions)) as pool:
            # each session reads every len(sessions)-th table, one at a time
            parts = pool.map(lambda i: {t: _read(sessions[i], t, key, cols)
                                        for t, key, cols in work[i::len(sessions)]}, range(len(sessions)))
            chunks: dict[str, Chunks] = {}
            for part in parts:
                chunks.update(part)
    return Fingerprint(chosen, chunks, round(time.perf_counter() - started, 3))


def differences(before: Fingerprint, after: Fingerprint) -> list[str]:
    """Where two fingerprints differ, one line per table and chunk."""
    lines = []
    for table in sorted(before.chunks.keys() | after.chunks.keys()):
        if table not in after.chunks or table not in before.chunks:
            lines.append(f"{table}: {'gone' if table not in after.chunks else 'new'}")
            continue
        was, now = before.chunks[table], after.chunks[table]
        for chunk in sorted(was.keys() | now.keys()):
            if was.get(chunk) != now.get(chunk):
                rows_was, rows_now = was.get(chunk, (0, 0))[0], now.get(chunk, (0, 0))[0]
                what = "same row count, other content" if rows_was == rows_now else \
                    f"{rows_was:,} -> {rows_now:,} rows"
                lines.append(f"{table} chunk {chunk}: {what}")
    return lines


def save(conn: psycopg.Connection, label: str, fingerprint: Fingerprint) -> None:
    """Keep a fingerprint in the ledger under `label` (replacing one of that label)."""
    ledger.ensure(conn)
    with conn.transaction():
        conn.execute("DELETE FROM tenant_migrate.fingerprints WHERE label = %s", (label,))
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO tenant_migrate.fingerprints (label, table_name, columns, chunk, row_count, hash) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [(label, t, fingerprint.columns[t], chunk, n, h)
                 for t, chunks in fingerprint.chunks.items() for chunk, (n, h) in chunks.items()])


def load(conn: psycopg.Connection, label: str) -> Fingerprint | None:
    """A fingerprint kept under `label`, or None."""
    if not ledger.exists(conn):
        return None
    rows = conn.execute("SELECT table_name, columns, chunk, row_count, hash FROM tenant_migrate.fingerprints "
                        "WHERE label = %s", (label,)).fetchall()
    if not rows:
        return None
    fingerprint = Fingerprint({}, {})
    for table, columns, chunk, n, h in rows:
        fingerprint.columns[table] = list(columns)
        fingerprint.chunks.setdefault(table, {})[int(chunk)] = (int(n), int(h))
    return fingerprint
