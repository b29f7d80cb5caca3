"""tenant_migrate/steps.py: the INVALID index of an interrupted concurrent build is dropped before the build runs
again, and only that one: never another schema's index of the same name."""

from __future__ import annotations

import psycopg
import pytest

from tenant_migrate import runner
from tenant_migrate.db import connection


def invalid_indexes(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute(
        "SELECT x.indexrelid::regclass::text FROM pg_index AS x WHERE NOT x.indisvalid").fetchall()}


def test_an_invalid_index_of_another_schema_is_left_alone(legacy_db):
    """Phase 5 builds idx_contacts_phone_number on public.contacts concurrently; the app's schema `app` has an
    INVALID index of that name (what a failed concurrent build of its own leaves). Phase 5 leaves it alone."""
    runner.migrate(legacy_db, to=4)
    with connection(legacy_db) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.contacts AS SELECT 'same' AS name FROM generate_series(1, 2)")
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY idx_contacts_phone_number ON app.contacts (name)")
    runner.migrate(legacy_db, to=5)
    with connection(legacy_db) as conn:
        assert {"app.idx_contacts_phone_number"} == invalid_indexes(conn)
        assert conn.execute("SELECT to_regclass('public.idx_contacts_phone_number')").fetchone()[0]
