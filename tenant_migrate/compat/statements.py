"""The app's own statements, read from pg_stat_statements: normalized text, calls, and the role that ran them."""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from tenant_migrate.db import connection
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import first_line
from tenant_migrate.evidence import one_line, redact
from tenant_migrate.paths import read_sql

HIDDEN = "<insufficient privilege>"  # pg_stat_statements' text of another role's statement, to the unprivileged
HOW_TO_TURN_ON = ("shared_preload_libraries = 'pg_stat_statements' in postgresql.conf (a restart), then "
                  "CREATE EXTENSION pg_stat_statements in the database")


@dataclass(frozen=True)
class Statement:
    """One app statement: what pg_stat_statements keeps of it."""

    queryid: int
    role: str
    query: str
    calls: int
    calls_a_day: float

    @property
    def key(self) -> tuple[str, int]:
        """pg_stat_statements keeps one entry per role and query: the same text run by two roles is two."""
        return self.role, self.queryid

    def short(self, width: int = 90) -> str:
        """The text as evidence shows it: on one line, cut to `width` characters, and without a value in it (the
        constants pg_stat_statements keeps in utility commands and comments are redacted too)."""
        return one_line(redact(self.query), width)

    def usage(self) -> str:
        """'role app, 1,234 calls, about 41,000 a day'."""
        return f"role {self.role}, {self.calls:,} calls, about {round(self.calls_a_day):,} a day"


@dataclass
class AppStatements:
    """What was read; `unavailable` says in one line why there is nothing (the check then does nothing)."""

    database: str
    statements: list[Statement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unavailable: str = ""


def read(dsn: str) -> AppStatements:
    """The app's statements of the database of `dsn` (sql/compat/statements.sql says which are left out)."""
    found = AppStatements(database_name(dsn))
    with connection(dsn) as conn:
        where = conn.execute(read_sql("compat/extension.sql")).fetchone()
        if where is None:
            found.unavailable = (f"app statements not checked: pg_stat_statements is not installed in database "
                                 f"{found.database} (to turn it on: {HOW_TO_TURN_ON})")
            return found
        query = sql.SQL(read_sql("compat/statements.sql")).format(schema=sql.Identifier(where[0]))
        try:
            rows = conn.execute(query).fetchall()
        except psycopg.Error as exc:  # not loaded at server start, or an old version of the extension
            found.unavailable = f"app statements not checked: pg_stat_statements: {first_line(exc)} ({HOW_TO_TURN_ON})"
            return found
        user = conn.info.user
    found.statements = [Statement(int(q), role, text, int(calls), float(a_day)) for q, role, text, calls, a_day in rows
                        if text != HIDDEN]
    if hidden := len(rows) - len(found.statements):
        found.notes.append(f"app statements not checked: {hidden} statements of other roles are hidden from role "
                           f"{user}: GRANT pg_read_all_stats TO {user}, then check again")
    if not found.statements:
        found.unavailable = found.notes.pop() if found.notes else (
            f"app statements not checked: pg_stat_statements of database {found.database} holds no statement of a "
            f"login role other than {user} (the migration's own, left out): connect the app as a role of its own, "
            "and check once it has run")
    return found
