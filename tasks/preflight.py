"""The preflight task: the checks before a phase changes anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tenant_migrate import ledger, runner
from tenant_migrate.backup import dump
from tenant_migrate.errors import PreflightRefused


@task(name="preflight", cache_policy=NO_CACHE)
def preflight_task(dsn: str, lock_conn: psycopg.Connection, number: int, backup_dir: Path | None) -> dict[str, Any]:
    """Previous phase applied and validated, ledger consistent, no drift, schema as expected, room to back up."""
    target = runner.ready_to_apply(lock_conn, number)
    previous = ledger.latest_run(lock_conn, number - 1, "up") if number > 1 else None
    previous_valid = previous is None or bool((previous.get("validation") or {}).get("success", True))
    if not previous_valid:
        problem = f"phase {number - 1} failed its validation"
        raise PreflightRefused(f"preflight: {problem}: re-run `tenant-migrate validate --phase {number - 1}` and fix "
                               f"it before phase {number}", phase=number, problems=[problem])
    checks: dict[str, Any] = {
        "previous phase validated": previous_valid,
        "no other migration running": True,
        "no drift in applied phases": True,
        "schema as expected": True,
    }
    if backup_dir is not None:
        space = dump.ensure_backup_possible(dsn, backup_dir)
        checks["backup tools and disk space"] = True
        checks["database_size_bytes"] = space["database_size_bytes"]
    get_run_logger().info("phase %d %s: preflight passed", target.number, target.name)
    return checks
