"""The ledger: every phase run recorded in the target database's own schema `tenant_migrate`.

All writes go through autocommit connections, except a batch's progress, which commits with its batch.
"""

from __future__ import annotations

import json
import weakref
from typing import Any, Literal

import psycopg
from psycopg import errors, sql
from psycopg.rows import dict_row

from tenant_migrate.db import one, scalar
from tenant_migrate.errors import LedgerUntrusted
from tenant_migrate.paths import read_sql

RUN_FIELDS = {"status", "finished_at", "duration_s", "notes", "error", "backup_path", "backup_sha256",
              "validation", "decision", "approved_by", "approval_comment", "decided_at", "flow_run_id",
              "size_bytes", "forecast_s", "forecast_basis", "forecast_drift"}

LEDGER_VIEWS = {"catalog_objects": "ownership/objects.sql", "tenant_references": "ownership/tenant_references.sql",
                "tenant_uniques": "ownership/tenant_uniques.sql", "citus_obstacles": "citus/obstacles.sql"}
_ensured: weakref.WeakSet[psycopg.Connection] = weakref.WeakSet()  # connections that ran the schema script


def ensure(conn: psycopg.Connection) -> None:
    """The ledger schema, made by this role or found trustworthy (`trusted`), brought up to date and locked down:
    sql/ledger/schema.sql, then the views of queries the check also runs before the ledger exists
    (tenant_migrate.catalog_objects, sql/ownership/objects.sql: the suites compare the catalog with the baseline
    through it; tenant_migrate.tenant_references and tenant_uniques: phase 5's steps read them), then
    sql/ledger/lockdown.sql. All with search_path = pg_catalog, so that no function or table of another schema is
    picked by a name in them. Once per connection while the ledger is there (a flow called it three times per
    phase)."""
    if conn in _ensured and exists(conn):
        return
    try:
        with conn.transaction():
            conn.execute("SET LOCAL search_path = pg_catalog, pg_temp")
            if not trusted(conn):
                conn.execute("CREATE SCHEMA tenant_migrate")
            conn.execute(read_sql("ledger/schema.sql"))
            for view, query in LEDGER_VIEWS.items():
                conn.execute(f"CREATE OR REPLACE VIEW tenant_migrate.{view} AS "
                             f"{read_sql(query).strip().removesuffix(';')}")
            conn.execute(read_sql("ledger/lockdown.sql"))
    except errors.DuplicateSchema:  # another session made it meanwhile: it is judged like any that was there
        ensure(conn)
        return
    _ensured.add(conn)


def trusted(conn: psycopg.Connection) -> bool:
    """Whether the ledger schema exists; refuses (LedgerUntrusted) one that this role does not own or that another
    role could write (sql/ledger/trust.sql), before anything of it is read."""
    return _state(conn)[0]


def exists(conn: psycopg.Connection) -> bool:
    """Whether the ledger (its phase_runs) exists, refused like `trusted` if it cannot be trusted."""
    return _state(conn)[1]


def _state(conn: psycopg.Connection) -> tuple[bool, bool]:
    """(the schema is there, its phase_runs is there) after the trust check, in one round trip."""
    present, runs, problems = one(conn, read_sql("ledger/trust.sql"))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise LedgerUntrusted(f"ledger: {problems[0]}{more}: what a rollback drops and gives back is read there, so "
                              "the migration will not use it, and nothing was changed; if it is this migration's "
                              "ledger, see docs/ownership.md to lock it down, else rename or drop that schema",
                              problems=problems)
    return bool(present), bool(runs)


def latest_runs(conn: psycopg.Connection) -> dict[int, dict[str, Any]]:
    """The newest run of each phase, by phase number."""
    if not exists(conn):
        return {}
    rows = conn.cursor(row_factory=dict_row).execute(
        "SELECT DISTINCT ON (phase) * FROM tenant_migrate.phase_runs ORDER BY phase, id DESC").fetchall()
    return {r["phase"]: r for r in rows}


def undecided_run(conn: psycopg.Connection, to: int | None = None) -> dict[str, Any] | None:
    """The run of the last applied phase (up to `to`) if its go/no-go was never recorded: a flow that stopped
    at its gate, or the plain runner. Only the last one can still be validated as it stood when applied."""
    applied = [r for n, r in sorted(latest_runs(conn).items())
               if r["direction"] == "up" and r["status"] == "applied" and (to is None or n <= to)]
    return applied[-1] if applied and not applied[-1]["decision"] else None


def latest_run(conn: psycopg.Connection, phase: int, direction: str | None = None) -> dict[str, Any] | None:
    if not exists(conn):
        return None
    query = "SELECT * FROM tenant_migrate.phase_runs WHERE phase = %s AND direction = coalesce(%s, direction) " \
            "ORDER BY id DESC LIMIT 1"
    return conn.cursor(row_factory=dict_row).execute(query, (phase, direction)).fetchone()


def backfill_way(conn: psycopg.Connection) -> str | None:
    """The way phase 2 went (instant or batched), or None while phase 2 has not run (or was rolled back): then
    either way is open. A phase 2 recorded before the instant way existed went the batched way."""
    run = latest_run(conn, 2)
    if run is None or (run["direction"] == "down" and run["status"] == "rolled_back"):
        return None
    return run.get("backfill") or "batched"


def applied_phases(conn: psycopg.Connection) -> set[int]:
    """Phases whose newest run is a completed apply."""
    return {n for n, r in latest_runs(conn).items() if r["direction"] == "up" and r["status"] == "applied"}


def start_run(conn: psycopg.Connection, *, phase: int, name: str, direction: str, checksum: str,
              files: dict[str, str], runner: str, resumed_from: int | None, backfill: str) -> int:
    """A new 'running' row; when resuming, finished steps, batch positions and the snapshot carry over."""
    run_id = scalar(
        conn, "INSERT INTO tenant_migrate.phase_runs (phase, name, direction, checksum, files, status, runner, "
              "resumed_from, backfill) VALUES (%s, %s, %s, %s, %s, 'running', %s, %s, %s) RETURNING id",
        (phase, name, direction, checksum, json.dumps(files), runner, resumed_from, backfill))
    if resumed_from is not None:
        conn.execute("INSERT INTO tenant_migrate.step_progress (run_id, step, status, position, target) "
                     "SELECT %s, step, status, position, target FROM tenant_migrate.step_progress "
                     "WHERE run_id = %s", (run_id, resumed_from))
        conn.execute("INSERT INTO tenant_migrate.row_counts (run_id, table_name, row_count, max_id, taken_at) "
                     "SELECT %s, table_name, row_count, max_id, taken_at FROM tenant_migrate.row_counts "
                     "WHERE run_id = %s", (run_id, resumed_from))
    return run_id


def update_run(conn: psycopg.Connection, run_id: int, **fields: Any) -> None:
    """Set some of RUN_FIELDS on a run (dicts and lists are stored as JSON)."""
    unknown = set(fields) - RUN_FIELDS
    if unknown:
        raise ValueError(f"not ledger fields: {sorted(unknown)}")
    values = [json.dumps(v, default=str) if isinstance(v, dict | list) else v for v in fields.values()]
    assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in fields)
    conn.execute(sql.SQL("UPDATE tenant_migrate.phase_runs SET {} WHERE id = %s").format(assignments),
                 [*values, run_id])

# A phase run's status in tenant_migrate.phase_runs (the values sql/ledger/schema.sql's CHECK allows)
RunStatus = Literal["running", "applied", "rolled_back", "failed", "interrupted"]


def finish_run(conn: psycopg.Connection, run_id: int, status: RunStatus, *, notes: list[str],
               error: str | None = None) -> None:
    conn.execute(
        "UPDATE tenant_migrate.phase_runs SET status = %s, error = %s, notes = %s, finished_at = clock_timestamp(),"
        " duration_s = round(extract(epoch FROM clock_timestamp() - started_at)::numeric, 3) WHERE id = %s",
        (status, error, json.dumps(notes), run_id))


def mark_interrupted(conn: psycopg.Connection, run_id: int, reason: str | None = None) -> None:
    """A 'running' run whose runner is gone (or lost its lock: `reason`) becomes 'interrupted'."""
    conn.execute(
        "UPDATE tenant_migrate.phase_runs SET status = 'interrupted', finished_at = clock_timestamp(), "
        "error = coalesce(error, %s, 'the runner stopped before finishing (process killed or connection lost); "
        "the next run resumed it') WHERE id = %s AND status = 'running'", (reason, run_id))


def step_progress(conn: psycopg.Connection, run_id: int, step: str) -> dict[str, Any] | None:
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT status, position, target FROM tenant_migrate.step_progress WHERE run_id = %s AND step = %s",
        (run_id, step)).fetchone()


def set_step(conn: psycopg.Connection, run_id: int, step: str, status: str,
             position: int | None = None, target: int | None = None) -> None:
    conn.execute(
        "INSERT INTO tenant_migrate.step_progress (run_id, step, status, position, target) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (run_id, step) DO UPDATE SET status = excluded.status, "
        "position = excluded.position, target = coalesce(excluded.target, step_progress.target), "
        "updated_at = clock_timestamp()", (run_id, step, status, position, target))


def snapshot_counts(conn: psycopg.Connection, run_id: int, counts: dict[str, tuple[int, int | None]]) -> None:
    """Row count and max id of each table just before a phase is applied."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO tenant_migrate.row_counts (run_id, table_name, row_count, max_id) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (run_id, table_name) DO NOTHING",
            [(run_id, table, n, max_id) for table, (n, max_id) in counts.items()])


def snapshot(conn: psycopg.Connection, run_id: int) -> dict[str, tuple[int, int | None]]:
    """The (row count, max id) of each legacy table taken just before the run applied its phase."""
    return {table: (n, max_id) for table, n, max_id in conn.execute(
        "SELECT table_name, row_count, max_id FROM tenant_migrate.row_counts WHERE run_id = %s ORDER BY table_name",
        (run_id,))}


def history(conn: psycopg.Connection) -> list[dict[str, Any]]:
    if not exists(conn):
        return []
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT id, phase, name, direction, status, started_at, finished_at, duration_s, error, decision, "
        "approved_by, backup_path, runner, resumed_from FROM tenant_migrate.phase_runs ORDER BY id").fetchall()


def record_decision(conn: psycopg.Connection, *, phase: int, direction: str, run_id: int | None, decision: str,
                    decided_by: str, comment: str, flow_run_id: str | None) -> int:
    """One go/no-go decision of a gate; the migrate flow's is also kept on its phase run."""
    ensure(conn)
    decision_id = scalar(conn,
        "INSERT INTO tenant_migrate.decisions (phase, direction, run_id, decision, decided_by, comment, flow_run_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (phase, direction, run_id, decision, decided_by, comment, flow_run_id))
    if run_id is not None:
        update_run(conn, run_id, decision=decision, approved_by=decided_by, approval_comment=comment,
                   decided_at=scalar(conn, "SELECT decided_at FROM tenant_migrate.decisions WHERE id = %s",
                                           (decision_id,)))
    return decision_id


def attach_decision(conn: psycopg.Connection, decision_id: int, run_id: int) -> None:
    """A rollback decision, taken before its run existed, joins that run."""
    row = one(conn, "UPDATE tenant_migrate.decisions SET run_id = %s WHERE id = %s "
                    "RETURNING decision, decided_by, comment, decided_at", (run_id, decision_id))
    update_run(conn, run_id, decision=row[0], approved_by=row[1], approval_comment=row[2], decided_at=row[3])


def decisions(conn: psycopg.Connection) -> list[dict[str, Any]]:
    if not exists(conn):
        return []
    return conn.cursor(row_factory=dict_row).execute("SELECT * FROM tenant_migrate.decisions ORDER BY id").fetchall()


def ownership_counts(conn: psycopg.Connection) -> dict[int, dict[str, int]]:
    """Per phase, how many objects it holds now: created (not yet undone), adopted, pending (a build in flight)."""
    if not exists(conn):
        return {}
    counts: dict[int, dict[str, int]] = {}
    for phase, ownership, n in conn.execute(
            "SELECT phase, ownership, count(*) FROM tenant_migrate.owned_objects WHERE released_at IS NULL "
            "GROUP BY phase, ownership"):
        counts.setdefault(phase, {})[ownership] = n
    return counts
