"""The app's own unique keys on the values phase 5 makes unique per tenant (contacts' phone_number and thread_id),
whatever their shape, held against what phase 5 can convert (sql/ownership/tenant_uniques.sql): each convertible one
is named with the per-tenant key that replaces it (its predicate, expressions and options kept, user_id first) and
given back by the rollback; each that cannot be converted is refused, with the reason, before any change."""

from __future__ import annotations

import re
from typing import Any

import psycopg

from tenant_migrate.check.objects import Finding
from tenant_migrate.paths import read_sql

PHASE = 5


def app_keys(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """The rows of sql/ownership/tenant_uniques.sql (the ledger's view tenant_migrate.tenant_uniques)."""
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(read_sql("ownership/tenant_uniques.sql")).fetchall()


def shape(row: dict[str, Any]) -> str:
    """The per-tenant key as the check shows it: UNIQUE (user_id, ...) and what else it keeps of the app's."""
    rest = re.sub(r"^CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \S+ ON public\.contacts USING btree ", "",
                  row["statement"])
    kind = "" if row["as_constraint"] else ", a unique index (a partial or expression key cannot be a constraint)"
    return f"UNIQUE {rest}{row['deferrable']}{kind}"


def findings(conn: psycopg.Connection, numbers: set[int], found: list[Finding], keep: tuple[str, ...]) -> list[Finding]:
    """`found` with the per-tenant keys of phase 5 in the shape they take, a note for each key of the app's that
    one replaces (or that stays beside it: --keep-global-unique), and a refusal for each key of the app's it cannot
    convert."""
    if PHASE not in numbers:
        return found
    rows = app_keys(conn)
    shaped = {("constraint", "contacts", r["key_name"]): r for r in rows if r["index_name"] and not r["why"]}
    result = [Finding(f.phase, f.verdict, f"unique key contacts.{f.key[2]}", shape(shaped[f.key]), f.adopted, f.key)
              if f.verdict == "create" and f.key in shaped and shape(shaped[f.key]) != f.text else f for f in found]
    for row in rows:
        if not row["index_name"]:
            continue
        what = f"unique {row['index_name']} on contacts ({row['column_name']})"
        if row["why"]:
            result.append(Finding(PHASE, "refuse", what, row["why"]))
        elif row["column_name"] in keep:
            result.append(Finding(PHASE, "note", what, f"kept (--keep-global-unique), {row['key_name']}, its "
                                                       "per-tenant form, beside it"))
        else:
            result.append(Finding(PHASE, "note", what, f"replaced by {row['key_name']}, its per-tenant form; the "
                                                       f"rollback gives {row['index_name']} back as it was"))
    return result
