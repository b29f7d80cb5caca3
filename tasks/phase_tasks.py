"""Prefect tasks of a phase: thin shells over the plain functions of the runner, backup and validation.

Retries only where a retry is safe and only for transient errors (a dropped connection, a lock
timeout, a serialization failure); every task is safe to re-run because the ledger remembers.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from prefect import task
from prefect.artifacts import (
    create_link_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tasks import backup, ledger, runner, validate
from tasks.db import MigrationError, database_name
from tasks.plan import phase

TRANSIENT = (psycopg.OperationalError, *runner.TRANSIENT_ERRORS)


def only_transient(task, task_run, state) -> bool:  # noqa: ANN001 - Prefect's retry_condition_fn signature
    """Retry a task only when it failed for a reason that may pass by itself."""
    try:
        state.result()
    except TRANSIENT:
        return True
    except Exception:  # noqa: BLE001 - any other failure is final
        return False
    return False


def progress_reporter(key: str, description: str, every_s: float = 2.0) -> tuple[Callable[[float], None], UUID]:
    """A progress artifact and a function that updates it at most every `every_s` (an API call each)."""
    artifact = create_progress_artifact(0.0, key=key, description=description)
    last = [time.monotonic()]

    def report(percent: float) -> None:
        if percent >= 100 or time.monotonic() - last[0] >= every_s:
            last[0] = time.monotonic()
            update_progress_artifact(artifact, min(100.0, percent))

    return report, artifact


def artifact_key(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


@task(name="preflight", cache_policy=NO_CACHE)
def preflight_task(dsn: str, lock_conn: psycopg.Connection, number: int, backup_dir: Path | None) -> dict[str, Any]:
    """Previous phase applied and validated, ledger consistent, no drift, schema as expected, room to back up."""
    target = runner.ready_to_apply(lock_conn, number)
    previous = ledger.latest_run(lock_conn, number - 1, "up") if number > 1 else None
    previous_valid = previous is None or bool((previous.get("validation") or {}).get("success", True))
    if not previous_valid:
        raise MigrationError(
            f"preflight: phase {number - 1} failed its validation: re-run `tenant-migrate validate "
            f"--phase {number - 1}` and fix it before phase {number}"
        )
    checks = {
        "previous phase validated": previous_valid,
        "no other migration running": True,
        "no drift in applied phases": True,
        "schema as expected": True,
    }
    if backup_dir is not None:
        space = backup.preflight(dsn, backup_dir)
        checks["backup tools and disk space"] = True
        checks["database_size_bytes"] = space["database_size_bytes"]
    get_run_logger().info("phase %d %s: preflight passed", target.number, target.name)
    return checks


@task(name="backup", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=only_transient)
def backup_task(dsn: str, number: int, backup_dir: Path, database_size_bytes: int = 0) -> dict[str, Any]:
    """pg_dump the database and verify the dump (sha256 + pg_restore --list); progress in an artifact."""
    estimate = max(1, database_size_bytes // 4)  # the custom format compresses about 4x
    report, _ = progress_reporter(f"backup-phase-{number}", "pg_dump progress")
    manifest = backup.backup(
        dsn,
        phase=number,
        backup_dir=backup_dir,
        progress=lambda written: report(min(99.0, 100 * written / estimate)),
    )
    report(100.0)
    get_run_logger().info("backup %s verified (sha256 %s)", manifest["path"], manifest["sha256"][:12])
    return {
        "path": manifest["path"],
        "sha256": manifest["sha256"],
        "size_bytes": manifest["size_bytes"],
        "seconds": manifest["seconds"],
        "verified": bool(manifest.get("verification")),
    }


@task(name="apply", cache_policy=NO_CACHE)
def apply_task(dsn: str, lock_conn: psycopg.Connection, number: int, settings: runner.Settings) -> runner.PhaseOutcome:
    """Run the phase's up steps (resuming an interrupted run) and record it in the ledger."""
    report, _ = progress_reporter(f"apply-phase-{number}", "batched steps progress")
    with_progress = replace(settings, progress=lambda step, done, total: report(100.0 * done / max(1, total)))
    outcome = runner.run_phase(dsn, lock_conn, phase(number), "up", with_progress)
    report(100.0)
    for note in outcome.notes:
        get_run_logger().info("phase %d: %s", number, note)
    return outcome


@task(name="rollback", cache_policy=NO_CACHE)
def rollback_task(
    dsn: str, lock_conn: psycopg.Connection, number: int, settings: runner.Settings
) -> runner.PhaseOutcome:
    """Run the phase's down steps."""
    return runner.rollback_phase(dsn, number, settings, lock_conn)


@task(name="validate", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5, retry_condition_fn=only_transient)
def validate_task(
    dsn: str, lock_conn: psycopg.Connection, number: int, run_id: int, admin_email: str, data_docs: bool = True
) -> dict[str, Any]:
    """Run the phase's Great Expectations suite; a failure stops the flow before the gate."""
    # one Data Docs site per ledger run: a shared site re-renders every result ever stored on each build
    result = validate.validate_phase(dsn, number, admin_email=admin_email, docs=data_docs,
                                     reports_dir=validate.reports_dir_default() / f"{database_name(dsn)}-run-{run_id}")
    ledger.update_run(lock_conn, run_id, validation=result)
    failures = [
        {"failing expectation": validate.failure_text(f) if isinstance(f, dict) else str(f)} for f in result["failed"]
    ]
    create_table_artifact(
        failures or [{"result": validate.summary_line(result)}],
        key=f"validation-phase-{number}",
        description=validate.summary_line(result),
    )
    if result.get("data_docs"):
        create_link_artifact(
            Path(result["data_docs"]).as_uri(),
            link_text="Great Expectations Data Docs",
            key=f"data-docs-phase-{number}",
        )
    get_run_logger().info("%s", validate.summary_line(result))
    if not result["success"]:
        raise MigrationError(validate.summary_line(result))
    return result
