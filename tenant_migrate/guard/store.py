"""The ledger's copy of the guard's figures (tenant_migrate.guard_figures)."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tenant_migrate import ledger
from tenant_migrate.db import scalar
from tenant_migrate.paths import read_sql


def record(conn: psycopg.Connection, *, phase: int, direction: str, run_id: int | None, flow_run_id: str | None,
           figures: dict[str, Any], series: list[tuple[float, float, float, int]], plot_path: str | None) -> int:
    """Keep one guarded phase's figures; returns the row's id."""
    ledger.ensure(conn)
    return scalar(conn, read_sql("guard/record.sql"), {
        "phase": phase, "direction": direction, "run_id": run_id, "flow_run_id": flow_run_id,
        "whole_phase": figures["whole_phase"], "stopped": figures["stopped"], "figures": Jsonb(figures),
        "series": Jsonb(series), "plot_path": plot_path})


def latest(conn: psycopg.Connection) -> dict[int, dict[str, Any]]:
    """The newest figures of each phase, by phase number ({} before any guarded phase)."""
    if not scalar(conn, "SELECT to_regclass('tenant_migrate.guard_figures') IS NOT NULL"):
        return {}
    rows = conn.cursor(row_factory=dict_row).execute(read_sql("guard/latest.sql")).fetchall()
    return {r["phase"]: r for r in rows}
