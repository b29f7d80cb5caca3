"""What the check says about the database beyond single objects: the app's triggers on the tables the migration
writes rows to, partitioned tables, the app's references between tenant tables, views that would bypass
row-level security, and the preflight's problems."""

from __future__ import annotations

import psycopg
from psycopg import sql

from tenant_migrate.check.objects import Finding
from tenant_migrate.db import KEY_TYPES, LEGACY_TABLES, key_type, scalar
from tenant_migrate.key_ranges import MAX_UUID
from tenant_migrate.ownership import Catalog
from tenant_migrate.paths import read_sql
from tenant_migrate.plan import Phase
from tenant_migrate.steps import can_skip_triggers

# what a partitioned table cannot take online, by the phase that would need it
PARTITION_LIMITS = {
    "orders": (2, "the plan's UNIQUE (order_number) cannot be enforced on a partitioned table unless it includes the "
                  "partition key"),
    "contacts": (5, "the plan's per-user UNIQUE (user_id, phone_number) and (user_id, thread_id) cannot be enforced "
                    "on a partitioned table unless they include the partition key"),
}


def triggers(conn: psycopg.Connection, numbers: set[int], way: str) -> list[Finding]:
    """The app's UPDATE triggers on the tables phase 4 writes rows to, and how they are kept from firing."""
    if 4 not in numbers:
        return []
    skip = can_skip_triggers(conn)
    findings = []
    for table in LEGACY_TABLES:  # phase 4 writes their tenant ids (and its rollback)
        if conn.execute("SELECT to_regclass(%s)", (f"public.{table}",)).fetchone() == (None,):
            continue
        every = [r[0] for r in conn.execute(read_sql("ownership/firing_triggers.sql"), {"table": table,
                                                                                         "replica": False})]
        firing = [r[0] for r in conn.execute(read_sql("ownership/firing_triggers.sql"), {"table": table,
                                                                                          "replica": skip})]
        writes = "phase 4 rewrites every row's tenant ids (batched way)" if way == "batched" else \
            "phase 4 writes only rows a writer gave an explicit NULL tenant id (instant way: normally none)"
        what = f"triggers on {table}"
        if firing and (skip or way == "batched"):
            why = "they fire even under session_replication_role = replica" if skip else \
                "this role may not set session_replication_role (GRANT SET ON PARAMETER session_replication_role TO " \
                "it, PostgreSQL 15+, or run as a superuser; or take the instant way)"
            findings.append(Finding(4, "refuse", what, f"{', '.join(firing)} would fire: {writes}, and {why}"))
        elif firing:
            findings.append(Finding(4, "note", what, f"{', '.join(firing)}: {writes}; should there be any, phase 4 "
                                                     "stops before writing one and names them"))
        elif every:
            findings.append(Finding(4, "note", what, f"{', '.join(every)}: {writes}, each batch under "
                                                     "session_replication_role = replica: they do not fire"))
    return findings


def keys(conn: psycopg.Connection, numbers: set[int]) -> list[Finding]:
    """The ids phase 4 (and its rollback) steps through in key ranges: an integer or a uuid; a uuid range ends
    before the Max UUID, so no row may have it."""
    if 4 not in numbers:
        return []
    findings = []
    for table in LEGACY_TABLES:
        found = key_type(conn, table)
        if found in KEY_TYPES and found != "uuid":
            continue
        if found == "uuid":
            if scalar(conn, sql.SQL("SELECT EXISTS (SELECT 1 FROM public.{} WHERE id = %s)").format(
                    sql.Identifier(table)), (MAX_UUID,)):
                findings.append(Finding(4, "refuse", f"key {table}.id", f"a row has the id {MAX_UUID} (RFC 9562's "
                                        "Max UUID, which no generator makes), past the end of every key range phase 4 "
                                        "steps through: give that row another id"))
            continue
        if conn.execute("SELECT to_regclass(%s)", (f"public.{table}",)).fetchone() != (None,):
            what = f"is {found}" if found else "does not exist"
            findings.append(Finding(4, "refuse", f"key {table}.id", f"{what}: phase 4 writes rows in ranges of their "
                                    f"id, which must be an integer, a bigint or a uuid"))
    return findings


def partitions(conn: psycopg.Connection, numbers: set[int]) -> list[Finding]:
    """Partitioned legacy tables: how the phases handle them, or what cannot be done."""
    findings = []
    for table, key, leaves in conn.execute(read_sql("ownership/partitioned_tables.sql")):
        phase, limit = PARTITION_LIMITS.get(table, (0, ""))
        if phase in numbers:
            findings.append(Finding(phase, "refuse", f"table {table}", f"partitioned ({key}): {limit}; there is no "
                                                                       "online way: this migration cannot go on"))
        else:
            findings.append(Finding(min(numbers), "note", f"table {table}",
                                    f"partitioned ({key}, {leaves} partitions): foreign keys are added per partition "
                                    "then attached, indexes built per partition (CONCURRENTLY) then attached"))
    return findings


def references(conn: psycopg.Connection, numbers: set[int], cat: Catalog) -> list[Finding]:
    """The app's references between tenant tables: each gets a composite twin in phase 5 and is dropped (saved, given
    back on rollback), or is left as it is, with why."""
    if 5 not in numbers:
        return []
    findings = []
    for table, column, name, referenced, twin, definition, replaceable, why in conn.execute(
            read_sql("ownership/tenant_references.sql")):
        what = f"reference {table}.{column} -> {referenced}"
        key = ("constraint", table, twin)
        if key in cat:
            findings.append(Finding(5, "refuse", what, f"the app has a constraint {twin} on {table}, the name of the "
                                                       f"tenant-carrying twin phase 5 adds: rename it (ALTER TABLE "
                                                       f"{table} RENAME CONSTRAINT {twin} TO ...)"))
        elif replaceable:
            findings.append(Finding(5, "create", what, f"{twin} {definition}; the app's {name} is saved, dropped, "
                                                       "and given back by the rollback", key=key))
        else:
            findings.append(Finding(5, "note", what, f"left single-column ({name}): {why}; a row of one tenant "
                                                     "could reference another tenant's"))
    return findings


def views(conn: psycopg.Connection, numbers: set[int]) -> list[Finding]:
    """Views over tenant tables that run as their owner: once phase 8 turns row-level security on, whoever may read
    them would see every tenant's rows."""
    if 8 not in numbers:
        return []
    return [Finding(8, "refuse", f"view {name}", f"reads {tables} as its owner, bypassing row-level security: "
                                                f"ALTER VIEW {name} SET (security_invoker = true), or drop it")
            if kind == "v" else
            Finding(8, "note", f"materialized view {name}", f"holds rows of {tables} of every tenant; row-level "
                                                            "security does not apply to it; the tenant roles get no "
                                                            "grant on it")
            for name, kind, tables in conn.execute(read_sql("ownership/owner_views.sql"))]


def preflight_findings(conn: psycopg.Connection, phases: list[Phase]) -> list[Finding]:
    """The preflight's problems (missing legacy tables, privileges, phase 8's login roles), for each phase."""
    seen: set[str] = set()
    findings = []
    for target in phases:
        for (problem,) in conn.execute(read_sql("catalog/preflight.sql"), {"phase": target.number, "resuming": False}):
            if problem not in seen:
                seen.add(problem)
                findings.append(Finding(target.number, "refuse", "preflight", problem))
    return findings
