"""The values phase 5 makes unique per tenant only (a contact's phone number, its LangGraph thread id), and the app's
own tables that hold them without a tenant: soft references that become ambiguous once two tenants may hold the same
value.

The app's store of conversations, keyed by thread_id and without user_id (the LangGraph checkpointer's tables), is
the case in point: after phase 5 tenant 2 may create a contact with a thread id tenant 1 already has, and its bot
would then read tenant 1's conversation. The check finds such tables by the column's name and by the values of a
sample of their rows, and warns, naming the ways out: keep that value unique across tenants
(--keep-global-unique COLUMN keeps the app's global unique key beside the per-tenant one), or namespace the app's
keys by tenant.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from tenant_migrate.check.data import TENANT, plan_uniques
from tenant_migrate.check.objects import Finding, declared
from tenant_migrate.db import LEGACY_TABLES, one
from tenant_migrate.errors import MigrationError
from tenant_migrate.ownership import Catalog
from tenant_migrate.paths import read_sql
from tenant_migrate.plan import load_plan


def per_tenant_values() -> list[tuple[str, str]]:
    """(table, column) of each value unique only per tenant after phase 5: the columns beside user_id of its
    per-tenant keys (not the ids, which stay unique)."""
    return [(key.table, column) for key in plan_uniques({5}) if key.columns[0] == TENANT
            for column in key.columns[1:] if column != "id"]


def check_kept(keep: tuple[str, ...]) -> None:
    """--keep-global-unique names values phase 5 makes per tenant."""
    columns = sorted({column for _, column in per_tenant_values()})
    for column in keep:
        if column not in columns:
            raise MigrationError(f"--keep-global-unique {column}: phase 5 makes only {', '.join(columns)} unique per "
                                 "tenant; name one of them")


def _plan_tables() -> list[str]:
    return [t["name"] for target in load_plan() for t in declared(target).get("table", [])]


def _shown(schema: str, table: str) -> str:
    return table if schema == "public" else f"{schema}.{table}"


def _found(conn: psycopg.Connection, table: str, column: str, sample: list[str]) -> int:
    query = sql.SQL(read_sql("check/values_found.sql")).format(table=sql.Identifier(table),
                                                                column=sql.Identifier(column))
    return one(conn, query, {"sample": sample})[0]


def sampled(conn: psycopg.Connection, schema: str, table: str, column: str) -> list[str] | None:
    """Up to 200 of the column's values (check/sample_values.sql); None when the app dropped the table or the column
    since the catalog was read: a deploy beside the check, whose vanished table holds nothing to warn about."""
    try:
        with conn.transaction():
            return [r[0] for r in conn.execute(sql.SQL(read_sql("check/sample_values.sql")).format(
                table=sql.Identifier(schema, table), column=sql.Identifier(column)))]
    except (psycopg.errors.UndefinedTable, psycopg.errors.UndefinedColumn):
        return None


def soft_references(conn: psycopg.Connection, numbers: set[int], keep: tuple[str, ...]) -> list[Finding]:
    """A warning per column of the app's (outside its tenant tables) that holds a value phase 5 makes unique per
    tenant: by its name, or because most of a sample of its values are such values."""
    if 5 not in numbers:
        return []
    wanted = [(t, c) for t, c in per_tenant_values()
              if one(conn, "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
                           "AND NOT attisdropped", (f"public.{t}", c))[0]]
    findings = []
    for schema, table, column in conn.execute(read_sql("check/app_string_columns.sql"),
                                              {"excluded": [*LEGACY_TABLES, *_plan_tables()]}).fetchall():
        if (sample := sampled(conn, schema, table, column)) is None:
            continue
        for unique_table, value in wanted:
            found = _found(conn, unique_table, value, sample) if sample else 0
            if column != value and (not sample or 2 * found < len(sample)):
                continue
            what = f"soft reference {_shown(schema, table)}.{column} -> {unique_table}.{value}"
            how = ("by its name" if column == value else "by its values") + \
                (f", {found} of {len(sample)} sampled values are {unique_table}' {value}" if sample else "")
            if value in keep:
                findings.append(Finding(5, "note", what, f"{how}; {value} stays unique across tenants "
                                                         f"(--keep-global-unique {value}): no two tenants share one"))
                continue
            findings.append(Finding(5, "warn", what, (
                f"{how}. After phase 5 {value} is unique per tenant only: two tenants may hold the same one, and "
                f"{table}, which has no user_id, would mix their rows (one tenant reading another's). Ways out: keep "
                f"it unique across tenants (--keep-global-unique {value}: the app's global unique key stays beside "
                f"the per-tenant one), or namespace the app's keys by tenant (e.g. '<user_id>:<{value}>') before a "
                "second tenant writes")))
    return findings


def kept_uniques(conn: psycopg.Connection, numbers: set[int], keep: tuple[str, ...], cat: Catalog) -> list[Finding]:
    """The app's global unique key on each value --keep-global-unique names, adopted by phase 5 (which then leaves
    it where it is); refused when the app has none."""
    if 5 not in numbers:
        return []
    findings = []
    for table, column in per_tenant_values():
        if column not in keep:
            continue
        found = conn.execute(read_sql("check/global_uniques.sql"), {"table": table, "column": column}).fetchall()
        if not found:
            findings.append(Finding(5, "refuse", f"--keep-global-unique {column}",
                                    f"{table} has no unique key on {column} alone to keep: add one (CREATE UNIQUE "
                                    f"INDEX CONCURRENTLY ... ON {table} ({column})) or leave the option out"))
        for name, is_constraint in found:
            keys = [("index", table, name), *([("constraint", table, name)] if is_constraint else [])]
            findings.append(Finding(5, "adopt", f"unique {name} on {table} ({column})",
                                    f"kept beside the per-tenant key (--keep-global-unique {column}): {column} stays "
                                    "unique across tenants", {k: cat[k] for k in keys if k in cat}))
    return findings
