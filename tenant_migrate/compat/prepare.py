"""Checking the app's statements against a schema as it is now.

Each statement is prepared as the role that ran it (SET ROLE), with the $n placeholders
pg_stat_statements left in its text, then planned (EXPLAIN EXECUTE with NULL for each parameter and a
generic plan), all in a transaction that is rolled back: nothing runs, nothing is written. PREPARE
alone would miss errors the planner raises, such as an ON CONFLICT target that no unique index matches.
Planning runs the app's own code (an IMMUTABLE function of the app's is folded into the plan), so it happens
only in a session that logs in as a role of ours, a member of the app role and of nothing else
(tenant_migrate/probe.py), never in the migration's session: code that gives itself the session's own role back
(set_config('role', 'none', true)) gets nothing more than that role's. A role whose powers no session of ours may
hold (a superuser, ...: sql/probe/lendable.sql) is not acted as; its statements are unchecked, with why.
What the check keeps: the error, the columns it returns (a `SELECT *` gains the new ones), and the
lookups it makes by a column that no longer finds one row (phone_number, thread_id without the tenant).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from typing import Any

import psycopg
from psycopg import pq, sql

from tenant_migrate.compat.statements import Statement
from tenant_migrate.db import catalog_search_path, connect, connection, scalar
from tenant_migrate.errors import first_line
from tenant_migrate.paths import read_sql
from tenant_migrate.probe import PROBE_APPLICATION_NAME, CannotActAs, lendable, login_as

NAME = "tenant_migrate_compat"  # the prepared statement; sql/compat/statements.sql leaves texts naming it out
PREPARABLE = frozenset({"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "VALUES", "TABLE"})
# transaction control and session settings: a schema change cannot break them
SESSION = frozenset({"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "SET",
                     "RESET", "SHOW", "DISCARD", "DEALLOCATE", "LISTEN", "UNLISTEN", "NOTIFY"})
# errors about the check rather than the statement: the statement is then unchecked, not failing
NOT_THE_STATEMENT = frozenset({"55P03", "57014", "40P01"})  # lock timeout, statement timeout, deadlock
# the text as pg_stat_statements keeps it cannot be prepared: a placeholder where SQL allows no parameter
# (`interval $1`), or one whose type nothing in the statement says (`SELECT $1 IS NULL`)
NOT_PREPARABLE = frozenset({"42601", "42P18"})  # syntax error, indeterminate datatype
CONDITIONS = ("Index Cond", "Recheck Cond", "Filter", "TID Cond")
LEADING_NOISE = re.compile(r"^(\s+|--[^\n]*\n?|/\*.*?\*/|\()*", re.DOTALL)


@dataclass(frozen=True)
class Check:
    """One statement against one schema. status: ok, fails, unchecked, or session (needs no check)."""

    status: str
    reason: str = ""  # the error (fails) or why it was not checked
    columns: tuple[str, ...] = ()
    lookups: tuple[str, ...] = ()  # "contacts.phone_number": looked up by it, without the tenant
    no_tenant: bool = False  # row-level security applies to it and its role has no tenant


def kind(query: str) -> str:
    """session, preparable or utility, by the statement's first word."""
    word = LEADING_NOISE.sub("", query, count=1).split(None, 1)
    first = word[0].upper().rstrip(";") if word else ""
    return "session" if first in SESSION else "preparable" if first in PREPARABLE else "utility"


def check_all(dsn: str, statements: Iterable[Statement]) -> dict[tuple[str, int], Check]:
    """Every statement checked against the database of `dsn`, keyed as Statement.key: each role's in a session of
    its own login role (probe.login_as). Raises ProbeUnavailable when no such session can be had on this server."""
    checks = {}
    needed: dict[str, list[Statement]] = {}
    for s in statements:
        what = kind(s.query)
        if what == "preparable":
            needed.setdefault(s.role, []).append(s)
        else:
            checks[s.key] = Check("session") if what == "session" else \
                Check("unchecked", "a utility command: PREPARE cannot check it")
    if not needed:
        return checks
    with connection(dsn) as conn:
        schema = Schema(catalog_search_path(conn))
        for role, mine in sorted(needed.items()):
            checks |= _check_as(dsn, role, mine, schema)
    return checks


def _check_as(dsn: str, role: str, statements: list[Statement], schema: Schema) -> dict[tuple[str, int], Check]:
    """One role's statements, in a session of a login role of ours that is a member of it."""
    if why := lendable(schema.conn, role):
        return {s.key: Check("unchecked", f"not acted as: role {role} holds {why}, which no session of ours lends "
                                          "to the app's code") for s in statements}
    try:
        with login_as(dsn, [role]) as probe:
            session = connect(probe, application_name=PROBE_APPLICATION_NAME)
            try:
                session.prepare_threshold = None  # DEALLOCATE ALL below must not drop psycopg's own statements
                return {s.key: check(session, s, schema) for s in statements}
            finally:
                session.close()
    except CannotActAs as exc:
        return {s.key: Check("unchecked", str(exc)) for s in statements}


class Schema:
    """What the check needs to know of the schema and of the app's roles, each asked of the catalog once: the
    lookup columns (lookup_keys.sql), the tables under row-level security, each role's search_path and tenant."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self.keys = {(t, c) for t, c in conn.execute(read_sql("compat/lookup_keys.sql")).fetchall()}
        self.secured = {(s, t) for s, t in conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE c.relrowsecurity").fetchall()}
        self.has_tenant = cache(self._has_tenant)
        self.search_path = cache(self._search_path)

    def _has_tenant(self, role: str) -> bool:
        return bool(scalar(self.conn, read_sql("compat/role_tenant.sql"), {"role": role}))

    def _search_path(self, role: str) -> str | None:
        row = self.conn.execute(read_sql("compat/role_search_path.sql"), {"role": role}).fetchone()
        return row[0] if row else None


def check(conn: psycopg.Connection, statement: Statement, schema: Schema) -> Check:
    """Prepare and plan one preparable statement as its role (with the search_path it logs in with) in a
    rolled-back transaction (`conn` in autocommit: a session of a login role that is a member of that role)."""
    step, search_path = "role", schema.search_path(statement.role)
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(read_sql("compat/check_session.sql"), {"search_path": search_path, "role": statement.role})
            step = "statement"
            conn.execute(sql.SQL("PREPARE {} AS ").format(sql.Identifier(NAME)) + sql.SQL(statement.query))
            described = conn.pgconn.describe_prepared(NAME.encode())
            if described.status != pq.ExecStatus.COMMAND_OK:
                return Check("unchecked", (described.error_message or b"").decode(errors="replace").strip())
            nulls = sql.SQL("({})").format(sql.SQL(", ").join([sql.NULL] * described.nparams)) \
                if described.nparams else sql.SQL("")
            plan = scalar(conn, sql.SQL("EXPLAIN (VERBOSE, COSTS OFF, FORMAT JSON) EXECUTE {}{}").format(
                sql.Identifier(NAME), nulls))
            nodes = list(_relations(plan[0]["Plan"]))
            secured = [n for n in nodes if n[:2] in schema.secured]  # row-level security may apply to these
            under_row_security = bool(secured) and scalar(conn, read_sql("compat/row_security.sql"), {
                "schemas": [n[0] for n in secured], "tables": [n[1] for n in secured]})
    except psycopg.Error as exc:
        if exc.sqlstate is None or exc.sqlstate.startswith("08"):  # the connection is gone: the check stops
            raise
        if step == "role":
            return Check("unchecked", f"cannot act as role {statement.role}: {first_line(exc)}")
        if exc.sqlstate in NOT_THE_STATEMENT:
            return Check("unchecked", f"not checked: {first_line(exc)}")
        if exc.sqlstate in NOT_PREPARABLE:
            return Check("unchecked", f"cannot be prepared as recorded: {first_line(exc)}")
        return Check("fails", first_line(exc))
    finally:
        conn.execute("DEALLOCATE ALL")
    columns = tuple((described.fname(i) or b"").decode() for i in range(described.nfields))
    return Check("ok", columns=columns, lookups=tuple(sorted(_lookups(nodes, schema.keys))),
                 no_tenant=under_row_security and not schema.has_tenant(statement.role))


def _relations(node: dict[str, Any]) -> Iterable[tuple[str, str, list[str]]]:
    """(schema, table, its conditions) of every node of a plan that reads a table; a bitmap heap scan's
    conditions include those of its bitmap index scans."""
    children = node.get("Plans", [])
    if "Relation Name" in node:
        conditions = [node[k] for k in CONDITIONS if k in node]
        conditions += [c[k] for c in children if "Relation Name" not in c for k in CONDITIONS if k in c]
        yield node.get("Schema", "public"), node["Relation Name"], conditions
    for child in children:
        yield from _relations(child)


def _lookups(nodes: list[tuple[str, str, list[str]]], keys: set[tuple[str, str]]) -> set[str]:
    """The table.column lookups (column equal to a parameter) on a table whose conditions never name user_id."""
    found = set()
    for schema, table, conditions in nodes:
        if schema != "public" or any(re.search(r"\buser_id\b", c) for c in conditions):
            continue
        for key_table, column in keys:
            equal = re.compile(rf"\b{column}\)?(::[\w ]+)?\s*=\s*\(?(\$\d|ANY)|\$\d+\)?(::[\w ]+)?\s*=\s*\(?"
                               rf"(\w+\.)?{column}\b")
            if key_table == table and any(equal.search(c) for c in conditions):
                found.add(f"{table}.{column}")
    return found
