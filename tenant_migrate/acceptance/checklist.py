"""Running the acceptance checklist: every line of the plan's "Testing & Validation", measured.

Existing functionality runs through the backend contract with its legacy defaults, as the legacy
backend's role; new functionality and isolation as the application role, with a second tenant created
through the normal path; performance at the database's real size. All writes happen in transactions
that are rolled back, so the checklist leaves no rows behind (sequences do advance); on a Citus coordinator the
tenants it onboards commit, and are removed at the end (checks.committed_tenants). One checklist runs at a time on a
database (lock.checklist_lock).

The writes fire the app's triggers, so they happen in the session of a login role of the checklist's own
(tenant_migrate/probe.py), never in the migration's: a member of tenant_legacy, tenant_app and tenant_owner (after
phase 8) and granted the tenant tables for the platform's side (sql/acceptance/owner_grants.sql), nothing else. A
trigger that takes that session's own role back (set_config('role', 'none', true)) gets only that. On a Citus
coordinator it is a member of a login role of ours per app role instead (probe.stand_ins), and acts as each by SET
ROLE to that one: Citus logs in to the workers as the current role, which the app roles (NOLOGIN) cannot.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from tenant_migrate.acceptance import LOAD_SECONDS, LOAD_TENANTS
from tenant_migrate.acceptance.checks import Checks, Line, own_transaction, row_level_security_on
from tenant_migrate.acceptance.functional import existing_functionality, new_functionality
from tenant_migrate.acceptance.performance import concurrent_load, query_performance
from tenant_migrate.db import catalog_search_path, connect, connection
from tenant_migrate.errors import MigrationError
from tenant_migrate.lock import checklist_lock
from tenant_migrate.paths import read_sql
from tenant_migrate.pending import pending_phases
from tenant_migrate.plan import last_plan_phase
from tenant_migrate.probe import PROBE_APPLICATION_NAME, Grant, ProbeUnavailable, lendable, login_as, stand_ins

APP_ROLES = ("tenant_legacy", "tenant_app", "tenant_owner")  # phase 8's roles, which the checklist acts as
GRANTED_ON = {"TABLE": sql.SQL("TABLE public.{}"), "SEQUENCE": sql.SQL("SEQUENCE public.{}")}


def run_checklist(dsn: str, *, samples: int = 30, load_tenants: int = LOAD_TENANTS,
                  load_seconds: float = LOAD_SECONDS) -> list[Line]:
    """Every line of the acceptance checklist, measured; nothing is left behind in the database. A pooler that
    does not keep the session, and a checklist already running, are refused before anything else is read."""
    with connection(dsn) as admin, checklist_lock(admin, dsn):
        catalog_search_path(admin)
        if missing := [p.number for p in pending_phases(admin, last_plan_phase())]:
            raise MigrationError(f"acceptance checklist: phases {missing} are not applied yet: "
                                 "run `tenant-migrate migrate` first")
        rls = row_level_security_on(admin)
        roles = APP_ROLES if rls else ()
        for role in roles:
            if why := lendable(admin, role):
                raise MigrationError(f"acceptance checklist not run: role {role} holds {why}: ALTER ROLE {role} "
                                     "NOSUPERUSER NOBYPASSRLS (or revoke that membership), then run it again")
        try:
            with stand_ins(dsn, roles) as acting, login_as(dsn, list(acting.values()), owner_grants(admin)) as probe:
                conn = connect(probe, application_name=PROBE_APPLICATION_NAME)
                try:
                    checks = Checks(conn, admin)
                    with own_transaction(conn):  # apart: on Citus a transaction writes a tenant's shards as one role
                        state = existing_functionality(checks, acting.get("tenant_legacy"))
                    new_functionality(checks, acting, state["admin_phone"])
                    with own_transaction(conn):
                        query_performance(checks, acting.get("tenant_app"), samples)
                finally:
                    conn.close()
                load = concurrent_load(probe, admin, acting.get("tenant_app"), load_tenants, load_seconds)
        except ProbeUnavailable as exc:
            raise MigrationError(f"acceptance checklist not run: {exc}") from None
    return [*checks.lines, load]


def owner_grants(admin: psycopg.Connection) -> list[Grant]:
    """What the checklist's login role is granted for the platform's side (sql/acceptance/owner_grants.sql)."""
    grants: list[Grant] = [("USAGE", sql.SQL("SCHEMA public")),
                           ("EXECUTE", sql.SQL("FUNCTION public.count_usage(text, integer)"))]
    grants += [(privileges, GRANTED_ON[kind].format(sql.Identifier(name)))
               for privileges, kind, name in admin.execute(read_sql("acceptance/owner_grants.sql")).fetchall()]
    return grants


def summary(lines: list[Line]) -> str:
    failed = [line for line in lines if not line["ok"]]
    if not failed:
        return f"acceptance checklist: all {len(lines)} lines pass: ready for customer onboarding"
    return (f"acceptance checklist: {len(failed)} of {len(lines)} lines failed; first: {failed[0]['check']}: "
            f"{failed[0]['evidence']}")
