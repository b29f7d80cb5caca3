"""Pacing by the app's latency: how much slower than usual the app's statements ran over the last second.

pg_stat_statements keeps, per statement, its calls and their total time. When the guard starts, each app
statement's usual time is its mean so far (sql/guard/app_statements.sql says which are the app's). Each reading
after (every second while pacing is on) takes the calls each made since the reading before and their time: the
app's added latency is, over those calls, the mean of how much slower each ran than its usual time (a faster one
counts 0). A statement first seen during the phase has no usual time and is left out: the migration's own
statements are among those. A statement still running is not counted until it ends: one held by a lock is the
lock-wait budget's (sampler.py), not this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from psycopg import sql

from tenant_migrate.errors import first_line
from tenant_migrate.paths import read_sql

StatementKey = tuple[int, int]  # (userid, queryid)


@dataclass
class AppLatency:
    """The app statements' usual times and the counts of the reading before; `note` says why there is no pacing."""

    usual_ms: dict[StatementKey, float] = field(default_factory=dict)
    last: dict[StatementKey, tuple[int, float]] = field(default_factory=dict)
    schema: str = ""
    note: str = ""

    @classmethod
    def start(cls, conn: psycopg.Connection) -> AppLatency:
        where = conn.execute(read_sql("compat/extension.sql")).fetchone()
        if where is None:
            return cls(note="no pacing by the app's latency: pg_stat_statements is not installed in this database")
        found = cls(schema=where[0])
        try:
            rows = conn.execute(found._query("guard/app_statements.sql")).fetchall()
        except psycopg.Error as exc:  # not loaded at server start, an old version of the extension
            return cls(note=f"no pacing by the app's latency: pg_stat_statements: {first_line(exc)}")
        for userid, queryid, calls, total_ms in rows:
            found.usual_ms[(userid, queryid)] = float(total_ms) / int(calls)
            found.last[(userid, queryid)] = (int(calls), float(total_ms))
        if not found.usual_ms:
            found.note = "no pacing by the app's latency: pg_stat_statements holds no statement of the app yet"
        return found

    def _query(self, name: str) -> sql.Composed:
        return sql.SQL(read_sql(name)).format(schema=sql.Identifier(self.schema))

    def read(self, conn: psycopg.Connection) -> tuple[float, int]:
        """(the app's added latency in ms per call, the calls it is over) since the reading before."""
        added = calls = 0.0
        for userid, queryid, now_calls, now_ms in conn.execute(self._query("guard/app_statement_counts.sql")):
            key = (userid, queryid)
            if key not in self.usual_ms:
                continue
            was_calls, was_ms = self.last[key]
            self.last[key] = (int(now_calls), float(now_ms))
            made = int(now_calls) - was_calls
            if made > 0:  # fewer: the statistics were reset or the entry evicted; the next reading counts again
                added += made * max(0.0, (float(now_ms) - was_ms) / made - self.usual_ms[key])
                calls += made
        return (added / calls if calls else 0.0), int(calls)
