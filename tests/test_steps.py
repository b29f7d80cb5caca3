"""tenant_migrate/steps.py: the INVALID index of an interrupted concurrent build is dropped and rebuilt, and only
that one: never another schema's index of the same name."""

from __future__ import annotations

import psycopg
import pytest

from tenant_migrate import steps
from tenant_migrate.db import connection

BUILD = "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_contacts_phone_number ON contacts (phone_number)"


def invalid_indexes(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT x.indexrelid::regclass::text FROM pg_index AS x WHERE NOT x.indisvalid").fetchall()}


def leave_an_invalid_index(conn: psycopg.Connection, table: str) -> None:
    """What an interrupted or failed CONCURRENTLY build leaves: an INVALID index (a unique one on duplicates)."""
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(f"CREATE UNIQUE INDEX CONCURRENTLY idx_contacts_phone_number ON {table} (name)")


def test_an_invalid_index_of_another_schema_is_left_alone(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.contacts AS SELECT 'same' AS name FROM generate_series(1, 2)")
        leave_an_invalid_index(conn, "app.contacts")
        steps._run_autocommit(conn, BUILD, "test", steps.Settings())
        assert {"app.idx_contacts_phone_number"} == invalid_indexes(conn)
        assert conn.execute("SELECT to_regclass('public.idx_contacts_phone_number')").fetchone()[0]


def test_an_invalid_index_of_the_same_table_is_dropped_and_rebuilt(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute("UPDATE contacts SET name = 'same'")
        leave_an_invalid_index(conn, "contacts")
        assert {"idx_contacts_phone_number"} == invalid_indexes(conn)
        steps._run_autocommit(conn, BUILD, "test", steps.Settings())
        assert set() == invalid_indexes(conn)
        assert "CREATE INDEX idx_contacts_phone_number ON public.contacts USING btree (phone_number)" == \
            conn.execute("SELECT pg_get_indexdef('public.idx_contacts_phone_number'::regclass)").fetchone()[0]
