"""What the check says about the database beyond single objects: the app's triggers on the tables the migration
writes rows to, partitioned tables, and the preflight's problems."""

from __future__ import annotations

import psycopg

from tenant_migrate.check.objects import Finding
from tenant_migrate.paths import read_sql
from tenant_migrate.plan import Phase
from tenant_migrate.steps import can_skip_triggers

ROW_WRITES = ("contacts", "messages", "orders", "campaigns")  # phase 4 writes their tenant ids (and its rollback)
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
    for table in ROW_WRITES:
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


def preflight(conn: psycopg.Connection, phases: list[Phase]) -> list[Finding]:
    """The preflight's problems (missing legacy tables, privileges, phase 8's login roles), for each phase."""
    seen: set[str] = set()
    findings = []
    for target in phases:
        for (problem,) in conn.execute(read_sql("catalog/preflight.sql"), {"phase": target.number, "resuming": False}):
            if problem not in seen:
                seen.add(problem)
                findings.append(Finding(target.number, "refuse", "preflight", problem))
    return findings
