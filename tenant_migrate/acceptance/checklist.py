"""Running the acceptance checklist: every line of the plan's "Testing & Validation", measured.

Existing functionality runs through the backend contract with its legacy defaults, as the legacy
backend's role; new functionality and isolation as the application role, with a second tenant created
through the normal path; performance at the database's real size. All writes happen in transactions
that are rolled back, so the checklist leaves no rows behind (sequences do advance).
"""

from __future__ import annotations

import backend_contract as bc
from tenant_migrate import runner
from tenant_migrate.acceptance.checks import Checks, Line, row_level_security_on
from tenant_migrate.acceptance.functional import existing_functionality, new_functionality
from tenant_migrate.acceptance.performance import concurrent_load, query_performance
from tenant_migrate.db import connect
from tenant_migrate.errors import MigrationError
from tenant_migrate.plan import last_plan_phase


def run_checklist(dsn: str, *, samples: int = 30, load_tenants: int = 4, load_seconds: float = 5.0) -> list[Line]:
    """Every line of the acceptance checklist, measured; nothing is left behind in the database."""
    conn = connect(dsn)
    try:
        if missing := [p.number for p in runner.pending_phases(conn, last_plan_phase())]:
            raise MigrationError(f"acceptance checklist: phases {missing} are not applied yet: "
                                 "run `tenant-migrate migrate` first")
        rls = row_level_security_on(conn)
        checks = Checks(conn)
        with conn.transaction(force_rollback=True):
            bc.name_tenant(conn, None)  # as an app transaction starts (on Citus: one connection per worker)
            state = existing_functionality(checks, "tenant_legacy" if rls else None)
            new_functionality(checks, rls, state["admin_phone"])
        with conn.transaction(force_rollback=True):
            bc.name_tenant(conn, None)
            query_performance(checks, "tenant_app" if rls else None, samples)
    finally:
        conn.close()
    return [*checks.lines, concurrent_load(dsn, "tenant_app" if rls else None, load_tenants, load_seconds)]


def summary(lines: list[Line]) -> str:
    failed = [line for line in lines if not line["ok"]]
    if not failed:
        return f"acceptance checklist: all {len(lines)} lines pass: ready for customer onboarding"
    return (f"acceptance checklist: {len(failed)} of {len(lines)} lines failed; first: {failed[0]['check']}: "
            f"{failed[0]['evidence']}")
