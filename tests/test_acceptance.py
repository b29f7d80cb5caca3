"""The plan's Phase 8 checklist on a real migrated database: every line passes, nothing is left behind,
and a line fails when what it checks is broken."""

from __future__ import annotations

import pytest

from tenant_migrate import runner
from tenant_migrate.acceptance import checklist
from tenant_migrate.db import catalog_shape, connection, row_counts
from tenant_migrate.errors import LockHeld, MigrationError
from tenant_migrate.lock import CHECKLIST_LOCK_KEY

ROLES = "SELECT count(*) FROM pg_roles"
TENANT_TABLE_COUNTS = "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM chatbots), " \
                      "(SELECT count(*) FROM actions), (SELECT count(*) FROM usage_tracking)"


def failed(lines: list[dict]) -> dict[str, str]:
    return {x["check"]: x["evidence"] for x in lines if not x["ok"]}


def test_every_line_passes_on_the_migrated_database_and_leaves_nothing_behind(legacy_db):
    runner.migrate(legacy_db)
    with connection(legacy_db) as conn:
        before = (catalog_shape(conn), row_counts(conn), conn.execute(TENANT_TABLE_COUNTS).fetchone())
    lines = checklist.run_checklist(legacy_db, samples=10, load_tenants=3, load_seconds=1)
    assert {} == failed(lines)
    assert {"Existing functionality", "New functionality", "Performance"} == {x["section"] for x in lines}
    assert "ready for customer onboarding" in checklist.summary(lines)
    load = lines[-1]["evidence"]
    assert "0 errors" in load and "ops/s" in load
    with connection(legacy_db) as conn:
        assert before == (catalog_shape(conn), row_counts(conn), conn.execute(TENANT_TABLE_COUNTS).fetchone())


def test_without_row_level_security_isolation_is_reported_as_not_enforced(legacy_db):
    runner.migrate(legacy_db, 7)
    problems = failed(checklist.run_checklist(legacy_db, samples=5, load_tenants=2, load_seconds=0.5))
    assert {"Multi-tenant data isolation works (enforced by PostgreSQL)",
            "Legacy backend confined to the admin tenant"} == set(problems)
    assert all("phase 8" in why for why in problems.values())


def test_a_table_left_without_row_level_security_fails_isolation_and_names_it(legacy_db):
    runner.migrate(legacy_db)
    with connection(legacy_db) as conn:
        conn.execute("ALTER TABLE orders DISABLE ROW LEVEL SECURITY")
    problems = failed(checklist.run_checklist(legacy_db, samples=5, load_tenants=2, load_seconds=0.5))
    assert ["Multi-tenant data isolation works (enforced by PostgreSQL)"] == list(problems)
    assert "'orders'" in problems["Multi-tenant data isolation works (enforced by PostgreSQL)"]


def test_the_checklist_refuses_a_database_not_migrated_yet(legacy_db):
    runner.migrate(legacy_db, 5)
    with pytest.raises(MigrationError, match=r"phases \[6, 7\] are not applied yet"):
        checklist.run_checklist(legacy_db)


def test_a_second_checklist_on_the_same_database_is_refused_at_once_and_changes_nothing(legacy_db):
    """On a Citus coordinator a checklist commits tenants and removes every checklist tenant it finds: two at once
    would remove each other's, so the second is refused, naming the session that runs the first."""
    runner.migrate(legacy_db)
    with connection(legacy_db) as first, connection(legacy_db) as conn:
        first.execute("SELECT pg_advisory_lock(%s)", (CHECKLIST_LOCK_KEY,))
        before = (catalog_shape(conn), row_counts(conn), conn.execute(ROLES).fetchone())
        with pytest.raises(LockHeld) as held:
            checklist.run_checklist(legacy_db, samples=5, load_tenants=2, load_seconds=0.5)
        assert held.value.holder.startswith(f"pid {first.info.backend_pid}, ")
        assert before == (catalog_shape(conn), row_counts(conn), conn.execute(ROLES).fetchone())
    assert {} == failed(checklist.run_checklist(legacy_db, samples=5, load_tenants=2, load_seconds=0.5))
