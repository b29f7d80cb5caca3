"""What the migration owns, and the rule that it touches nothing else.

Around every DDL statement the runner reads the catalog before and after (sql/ownership/objects.sql), in the
same transaction as the statement (a CONCURRENTLY build, which cannot run in one, is recorded as 'pending'
first and reconciled after). What appeared is recorded in tenant_migrate.owned_objects as created by the
phase. An object that was there before the migration belongs to the app: no statement may drop or change it,
except an object a phase saved first to give it back on rollback (phase 5's single-column uniques); a
violation rolls the statement back and stops the phase. A down step may only remove objects the migration
created, and may only create objects it gives back (saved ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from tenant_migrate.errors import MigrationError
from tenant_migrate.paths import read_sql

Key = tuple[str, str, str]  # kind, table ('' for none), name
Catalog = dict[Key, str]  # key -> detail


def catalog(conn: psycopg.Connection) -> Catalog:
    rows = conn.execute(read_sql("ownership/objects.sql"))
    return {(kind, table, name): detail for kind, table, name, detail in rows}


def label(key: Key) -> str:
    kind, table, name = key
    return f"{kind} {table + '.' if table else ''}{name}"


# what PostgreSQL may write differently for one expression once it has read its own text back (a table rebuilt
# from its definition: a CHECK (x IN (...)) on a varchar column), and that does not change what it means
_REPARSED = re.compile(r"::[a-z ]+(\[\])?|[()]")


def same_definition(before: str, after: str) -> bool:
    """Two details of one object that say the same thing: equal, or equal but for the casts and parentheses that
    reading a CHECK's text back adds or drops."""
    return before == after or (before.startswith("CHECK") and _REPARSED.sub("", before) == _REPARSED.sub("", after))


@dataclass(frozen=True)
class Change:
    created: Catalog
    vanished: Catalog
    changed: dict[Key, tuple[str, str]]

    @classmethod
    def between(cls, before: Catalog, after: Catalog) -> Change:
        return cls(created={k: v for k, v in after.items() if k not in before},
                   vanished={k: v for k, v in before.items() if k not in after},
                   changed={k: (before[k], after[k]) for k in before.keys() & after.keys()
                            if not same_definition(before[k], after[k])})


def created_keys(conn: psycopg.Connection) -> set[Key]:
    """Objects the migration created (any phase) and still has."""
    return {tuple(r) for r in conn.execute(
        "SELECT kind, table_name, name FROM tenant_migrate.owned_objects "
        "WHERE ownership = 'created' AND released_at IS NULL")}


def pending_indexes(conn: psycopg.Connection) -> set[str]:
    """Indexes whose CONCURRENTLY build the migration started and has not recorded yet (maybe left INVALID)."""
    return {r[0] for r in conn.execute(
        "SELECT name FROM tenant_migrate.owned_objects WHERE ownership = 'pending' AND released_at IS NULL")}


def saved_keys(conn: psycopg.Connection) -> set[Key]:
    """App objects a phase dropped after saving them (tenant_migrate.saved_keys)."""
    return {tuple(r) for r in conn.execute("SELECT kind, table_name, name FROM tenant_migrate.saved_keys")}


def violations(change: Change, direction: str, mine: set[Key], saved: set[Key]) -> list[str]:
    """What the statement did to objects it may not touch, one phrase each."""
    giving_back = saved if direction == "down" else set()  # a rollback restoring a saved object may finish it
    problems = [f"changed the app's {label(k)} ({was!r} -> {now!r})" for k, (was, now) in change.changed.items()
                if k not in mine and k not in giving_back]
    gone = [k for k in change.vanished if k not in mine and not (direction == "up" and k in saved)]
    problems += [f"dropped the app's {label(k)}" for k in gone]
    # a default or NOT NULL belongs to its column: added to an app column, it changes the app's column
    problems += [f"changed the app's column {table}.{name} (added its {kind.replace('_', ' ')})"
                 for kind, table, name in change.created if kind in ("default", "not_null")
                 and ("column", table, name) not in mine and ("column", table, name) not in change.created]
    if direction == "down":
        problems += [f"created {label(k)}, which a rollback must not" for k in change.created if k not in saved]
    return problems


def record(conn: psycopg.Connection, *, phase: int, run_id: int, direction: str, before: Catalog, after: Catalog,
           what: str) -> None:
    """Check and record what one statement changed (inside its transaction, when it has one)."""
    change = Change.between(before, after)
    building = pending_indexes(conn)
    mine = created_keys(conn) | {k for k in before.keys() | after.keys() if k[0] == "index" and k[2] in building}
    problems = violations(change, direction, mine, saved_keys(conn))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise MigrationError(f"{what} {problems[0]}{more}: the migration touches only what it owns; the statement "
                             "was stopped (a CONCURRENTLY statement cannot be undone: see tenant-migrate status)")
    if direction == "up":
        _insert(conn, phase, run_id, "created", change.created)
    gone = [k for k in mine if k not in after]
    if gone:
        with conn.cursor() as cur:
            cur.executemany("UPDATE tenant_migrate.owned_objects SET released_at = clock_timestamp() "
                            "WHERE kind = %s AND table_name = %s AND name = %s AND ownership = 'created' "
                            "AND released_at IS NULL", gone)
    _settle_pending(conn, phase, run_id, after)


def _insert(conn: psycopg.Connection, phase: int, run_id: int, ownership: str, objects: Catalog) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO tenant_migrate.owned_objects (phase, run_id, kind, table_name, name, detail, ownership) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(phase, run_id, kind, table, name, detail, ownership) for (kind, table, name), detail in objects.items()])


def mark_pending(conn: psycopg.Connection, phase: int, run_id: int, index: str, before: Catalog) -> None:
    """Before a CONCURRENTLY build of an index that does not exist yet: the index to come is the migration's,
    even if the process dies between the build and its record."""
    if any(kind == "index" and name == index for kind, _, name in before):
        return
    conn.execute("INSERT INTO tenant_migrate.owned_objects (phase, run_id, kind, name, ownership) "
                 "SELECT %s, %s, 'index', %s, 'pending' WHERE NOT EXISTS (SELECT 1 FROM tenant_migrate.owned_objects "
                 "WHERE kind = 'index' AND name = %s AND ownership = 'pending')", (phase, run_id, index, index))


def _settle_pending(conn: psycopg.Connection, phase: int, run_id: int, after: Catalog) -> None:
    """A pending index that now exists is a created one (its build finished, maybe in a process that died)."""
    pending = {name for (name,) in conn.execute(
        "DELETE FROM tenant_migrate.owned_objects WHERE ownership = 'pending' AND phase = %s RETURNING name",
        (phase,))}
    mine = created_keys(conn)
    found = {k: v for k, v in after.items() if k[0] == "index" and k[2] in pending and k not in mine}
    _insert(conn, phase, run_id, "created", found)
    still_building = pending - {k[2] for k in after if k[0] == "index"}
    for name in still_building:
        conn.execute("INSERT INTO tenant_migrate.owned_objects (phase, run_id, kind, name, ownership) "
                     "VALUES (%s, %s, 'index', %s, 'pending')", (phase, run_id, name))


def record_baseline(conn: psycopg.Connection) -> None:
    """The catalog before phase 1: all of it is the app's."""
    with conn.transaction():
        conn.execute("DELETE FROM tenant_migrate.baseline_objects")
        conn.execute("INSERT INTO tenant_migrate.baseline_objects (kind, table_name, name, detail) "
                     "SELECT kind, table_name, name, detail FROM tenant_migrate.catalog_objects")


def adopt(conn: psycopg.Connection, phase: int, run_id: int, objects: Catalog) -> None:
    """Record the app objects a phase uses as they are (never dropped or changed by a rollback)."""
    known = {tuple(r) for r in conn.execute(
        "SELECT kind, table_name, name FROM tenant_migrate.owned_objects WHERE ownership = 'adopted'")}
    _insert(conn, phase, run_id, "adopted", {k: v for k, v in objects.items() if k not in known})


def owned(conn: psycopg.Connection, phase: int | None = None) -> list[dict[str, object]]:
    """The ownership ledger (of one phase), oldest first."""
    cur = conn.execute("SELECT phase, kind, table_name, name, ownership, released_at IS NOT NULL AS released "
                       "FROM tenant_migrate.owned_objects WHERE phase = coalesce(%s, phase) ORDER BY id", (phase,))
    return [dict(zip(("phase", "kind", "table", "name", "ownership", "released"), r, strict=True)) for r in cur]
