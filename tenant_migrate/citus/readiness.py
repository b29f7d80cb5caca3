"""What stands between this database and a Citus cluster, and what phase 9 (09_distribute) does about each.

Two sources: the schema (sql/citus/obstacles.sql, pg_catalog only, so it runs on any server) and the server (is it
a Citus coordinator, with workers, placing one copy of each shard). Phase 9's check refuses on the first of either
that it cannot handle; on a server where phase 9 is not checked, `tenant-migrate check` lists the same lines as
information, never as a reason to stop the migration.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row

from tenant_migrate.check.objects import Finding
from tenant_migrate.db import scalar
from tenant_migrate.paths import read_sql

PHASE = 9
VERDICTS = {"rebuild": "note", "note": "note", "refuse": "refuse"}


@dataclass(frozen=True)
class Obstacle:
    kind: str
    table_name: str
    object_name: str | None
    action: str  # rebuild, note or refuse
    definition: str
    detail: str
    citus_error: str
    replacement: str | None
    replacement_definition: str | None
    owner_table: str | None
    key_column: str | None

    @property
    def what(self) -> str:
        name = self.object_name or self.key_column
        return f"{self.kind.replace('_', ' ')} {self.table_name}" + (f".{name}" if name != self.table_name else "")

    @property
    def text(self) -> str:
        shown = f"{self.definition}: " if self.definition and self.kind != "trigger" else ""
        return f"{shown}{self.detail} (Citus: \"{self.citus_error}\")"

    def line(self) -> str:
        return f"{VERDICTS[self.action].upper():<7} {self.what}: {self.text}"


def obstacles(conn: psycopg.Connection) -> list[Obstacle]:
    return conn.cursor(row_factory=class_row(Obstacle)).execute(read_sql("citus/obstacles.sql")).fetchall()


def is_citus(conn: psycopg.Connection) -> bool:
    return bool(scalar(conn, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus')"))


def server_problems(conn: psycopg.Connection) -> list[str]:
    """Why this server cannot take phase 9 now: not a Citus coordinator, no worker, more than one copy per shard."""
    if not is_citus(conn):
        return ["this database has no citus extension: phase 9 runs on a Citus coordinator (shared_preload_libraries "
                "= 'citus', CREATE EXTENSION citus here and on each worker, citus_add_node for each worker)"]
    problems = []
    if not scalar(conn, "SELECT citus_is_coordinator()"):
        problems.append("this node is not the coordinator of its Citus cluster (citus_is_coordinator() is false, or "
                        "citus_set_coordinator_host was never run): run phase 9 on the coordinator")
    if not scalar(conn, "SELECT count(*) FROM citus_get_active_worker_nodes()"):
        problems.append("the coordinator has no active worker: add them first (SELECT citus_add_node(host, port))")
    if int(scalar(conn, "SELECT current_setting('citus.shard_replication_factor')")) != 1:
        problems.append("citus.shard_replication_factor is not 1: Citus keeps references between distributed tables "
                        "only with one copy of each shard")
    return problems


def findings(conn: psycopg.Connection) -> list[Finding]:
    """Phase 9's lines of the whole-plan check: a refusal for each problem of the server and each obstacle it
    cannot handle, a note for each it handles (what it does, and the Citus error it avoids)."""
    found = [Finding(PHASE, "refuse", "server", problem) for problem in server_problems(conn)]
    return found + [Finding(PHASE, VERDICTS[o.action], o.what, o.text) for o in obstacles(conn)]


def report(conn: psycopg.Connection) -> tuple[str, list[str]]:
    """For `tenant-migrate check` where phase 9 is not checked: a heading and one line per obstacle."""
    problems = server_problems(conn)
    heading = ("what stands between this database and Citus (information: phase 9 is for a Citus coordinator)"
               if not is_citus(conn) else
               "what phase 9 would meet here (migrate --to 9)" + (f"; first: {problems[0]}" if problems else ""))
    return heading, [o.line() for o in obstacles(conn)]
