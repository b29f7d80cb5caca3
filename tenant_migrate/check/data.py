"""What the app's data says about the plan, before any change: the rows that would break a constraint a pending phase
adds or validates, one line per constraint (the constraint, how many rows, the ids of up to five of them, what to
do).

The constraints, as the plan will hold them: each unique key the plan adds to a table of the app's (objects.toml),
scoped as its rows will be (a row without a tenant yet counts as tenant 1, where the plan puts every legacy row);
the foreign keys of the tenant ids (phase 4; its sweep gives tenant 1 to a row without one, and its NOT NULL refuses
new ones); the composite references between tenant tables (phase 5). Only ids are shown, never the values (phone
numbers are customer data).

Cheap on large tables: a unique key the app already guarantees (a unique index on some of its columns, or the app's
own unique key on the value, whatever its shape, that phase 5 makes per tenant) needs no scan;
a duplicate search is one scan of the table, or of an index; the tenant ids are read in one scan per table that has
them (none where the flow's count after the phase before counted them, db.table_stats), and the joins that find rows
of another tenant run only when that scan found such rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from tenant_migrate.check import uniques
from tenant_migrate.check.objects import Finding, declared
from tenant_migrate.db import LEGACY_TABLES, columns, one
from tenant_migrate.paths import read_sql
from tenant_migrate.plan import load_plan

TENANT = "user_id"
CHATBOT = "chatbot_id"


@dataclass(frozen=True)
class UniqueKey:
    """A unique key a phase adds to a table that already holds the app's rows."""

    phase: int
    table: str
    name: str
    columns: tuple[str, ...]


def plan_uniques(numbers: set[int]) -> list[UniqueKey]:
    """The unique constraints the phases `numbers` add to the app's tables (objects.toml's [[constraint]])."""
    keys = []
    for target in load_plan():
        if target.number not in numbers:
            continue
        for spec in declared(target).get("constraint", []):
            match = re.fullmatch(r"UNIQUE \((.*)\)", spec["definition"])
            if match:
                columns = tuple(c.strip() for c in match.group(1).split(","))
                keys.append(UniqueKey(target.number, spec["table"], spec["name"], columns))
    return keys


def _template(name: str, **parts: sql.Composable) -> sql.Composed:
    return sql.SQL(read_sql(f"check/{name}.sql")).format(**parts)


def _ids(examples: Iterable[Any]) -> str:
    return ", ".join(str(e) for e in examples)


def _duplicates(conn: psycopg.Connection, key: UniqueKey, have: set[str]) -> Finding | None:
    """The rows sharing a value of `key` as the plan will scope it, unless the app's own unique index rules them out
    (or the key holds a column that does not exist yet, so that every row has NULL there)."""
    values = [c for c in key.columns if c != TENANT]
    if not set(values) <= have or one(conn, read_sql("check/unique_proven.sql"),
                                      {"table": key.table, "name": key.name, "columns": values})[0]:
        return None
    scoped = [sql.SQL("coalesce(t.{}, 1)").format(sql.Identifier(TENANT))] if TENANT in have else []
    present = sql.SQL(" AND ").join(sql.SQL("t.{} IS NOT NULL").format(sql.Identifier(c)) for c in values)
    keys, rows, examples = one(conn, _template(
        "duplicates", table=sql.Identifier(key.table), present=present,
        key=sql.SQL(", ").join([*scoped, *(sql.Identifier("t", c) for c in values)])))
    if not keys:
        return None
    shown = ", ".join(values)
    where = " (every row of the app's lands on tenant 1)" if TENANT in key.columns else ""
    return Finding(key.phase, "refuse", f"data for {key.name} UNIQUE ({', '.join(key.columns)}) on {key.table}",
                   f"{rows} rows share {keys} values of {shown}{where}; ids sharing one: {'; '.join(examples)}: "
                   f"merge each set into one row (moving what references the others) or give each row its own "
                   f"{shown}, then run check again")


def _tenant_parts(have: set[str]) -> dict[str, sql.Composable]:
    chatbot = CHATBOT in have
    return {"user_id": sql.Identifier("t", TENANT),
            "chatbot_id": sql.Identifier("t", CHATBOT) if chatbot else sql.Literal(1),
            "has_chatbot": sql.Literal(chatbot)}


def _tenant_findings(conn: psycopg.Connection, numbers: set[int], tables: dict[str, set[str]],
                     counted: dict[str, tuple[int, int]]) -> list[Finding]:
    """The tenant foreign keys of phase 4 and the composite references of phase 5, from one scan per table with
    tenant ids, or the rows on another tenant `counted` (Counts.tenants) found there just before (and a join only
    where a table has rows off tenant 1)."""
    findings, off = [], set()
    for table, have in tables.items():
        parts = _tenant_parts(have) | {"table": sql.Identifier(table)}
        [off_tenant] = [counted[table][1]] if table in counted else one(conn, _template("tenant_rows", **parts))
        if off_tenant:
            off.add(table)
        if off_tenant and 4 in numbers:
            rows, examples = one(conn, _template("unknown_tenants", **parts))
            if rows:
                findings.append(Finding(4, "refuse", f"data for the tenant foreign keys of {table}",
                                        f"{rows} rows name a user_id not in users, or a chatbot_id not of their user "
                                        f"(e.g. ids {_ids(examples)}): give them a user and chatbot that exist"))
    if 5 in numbers and off:
        findings += _cross_tenant(conn, off)
    return findings


def _cross_tenant(conn: psycopg.Connection, off: set[str]) -> list[Finding]:
    """Rows referencing a row of another tenant, for each reference phase 5 makes carry the tenant where one of its
    two tables has rows off tenant 1."""
    findings = []
    for table, column, _, referenced, twin, *_, replaceable, _ in conn.execute(
            read_sql("ownership/tenant_references.sql")).fetchall():
        if not replaceable or not {table, referenced} & off:
            continue
        rows, examples = one(conn, _template("cross_tenant_references", table=sql.Identifier(table),
                                             column=sql.Identifier(column), referenced=sql.Identifier(referenced)))
        if rows:
            findings.append(Finding(5, "refuse", f"data for {twin} on {table}",
                                    f"{rows} rows of {table} name in {column} a row of {referenced} of another tenant "
                                    f"(e.g. ids {_ids(examples)}): give each the tenant of the row it names"))
    return findings


def conflicts(conn: psycopg.Connection, numbers: set[int],
              counted: dict[str, tuple[int, int]] | None = None) -> list[Finding]:
    """The rows in the way of the constraints the phases `numbers` add or validate: one refusal per constraint.
    `counted`: the tenant figures of a count just taken (Counts.tenants), which spare the scans for rows off
    tenant 1."""
    tables = {t: columns(conn, t) for t in LEGACY_TABLES}
    if 2 in numbers:  # tenant ids there before phase 2 are the app's own columns (refused): no row is on a tenant yet
        tables = {t: have - {TENANT, CHATBOT} for t, have in tables.items()}
    # a per-tenant key in the shape of the app's own unique key holds already (the app's key proves it); one the
    # app's key cannot be converted to is refused as such (tenant_migrate.check.uniques)
    shaped = {r["key_name"] for r in uniques.app_keys(conn) if r["index_name"]} if 5 in numbers else set()
    findings = [f for key in plan_uniques(numbers) if key.table in tables and key.name not in shaped
                if (f := _duplicates(conn, key, tables[key.table]))]
    with_tenant = {t: have for t, have in tables.items() if TENANT in have}
    if numbers & {4, 5} and with_tenant:
        findings += _tenant_findings(conn, numbers, with_tenant, counted or {})
    return findings
