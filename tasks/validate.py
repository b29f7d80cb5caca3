"""Validation tasks: a phase's Great Expectations suite after it is applied, or the previous phase's after a
rollback; and the row counts before and after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
from prefect import task
from prefect.artifacts import create_link_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tenant_migrate import faults, ledger
from tenant_migrate.db import Counts, table_stats
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import ValidationFailed
from tenant_migrate.tasks.common import only_transient, send_artifact
from tenant_migrate.validation.checkpoints import reports_dir_default, validate_phase
from tenant_migrate.validation.results import failure_text, summary_line


@task(name="validate", cache_policy=NO_CACHE, retries=1, retry_delay_seconds=5, retry_condition_fn=only_transient)
def validate_task(dsn: str, lock_conn: psycopg.Connection, number: int, run_id: int, admin_email: str,
                  data_docs: bool = True, counted: Counts | None = None) -> dict[str, Any]:
    """Run the phase's Great Expectations suite and record it in the ledger; a failure stops the flow before
    the gate. `counted`: row_counts_task's count just now, whose rows still there since the phase's snapshot the
    suite's row-count check compares with it (and whose rows off tenant 1, where it counted them, phase 4's)."""
    faults.checkpoint(f"phase{number}:applied")
    # one Data Docs site per ledger run: a shared site re-renders every result ever stored on each build
    result = validate_phase(dsn, number, admin_email=admin_email, docs=data_docs, counted=counted,
                            reports_dir=reports_dir_default() / f"{database_name(dsn)}-run-{run_id}")
    ledger.update_run(lock_conn, run_id, validation=result)
    failing = [failure_text(f) for f in result["failed"]]
    failures = [{"failing expectation": text} for text in failing]
    send_artifact(create_table_artifact, failures or [{"result": summary_line(result)}],
                  key=f"validation-phase-{number}", description=summary_line(result))
    if result.get("data_docs"):
        send_artifact(create_link_artifact, Path(result["data_docs"]).as_uri(),
                      link_text="Great Expectations Data Docs", key=f"data-docs-phase-{number}")
    get_run_logger().info("%s", summary_line(result))
    if not result["success"]:
        raise ValidationFailed(summary_line(result), phase=number, failing=failing)
    return result


@task(name="validate previous phase", cache_policy=NO_CACHE)
def validate_after_rollback_task(dsn: str, lock_conn: psycopg.Connection, number: int, run_id: int) -> dict[str, Any]:
    """After phase `number` is rolled back, phase number - 1 must validate as it did when applied."""
    check: dict[str, Any] = validate_phase(dsn, number - 1, docs=False) if number > 1 else {"success": True}
    ledger.update_run(lock_conn, run_id, validation=check)
    if not check["success"]:
        raise ValidationFailed(f"after rolling back phase {number}, phase {number - 1} fails validation: "
                               f"{summary_line(check)}", phase=number - 1,
                               failing=[x if isinstance(x, str) else failure_text(x) for x in check["failed"]])
    return check


# The counts after these phases also count the rows off tenant 1 (db.table_stats): phase 4's suite reads them, and so
# do the checks before phases 4 and 5 (tenant_migrate.check.data), instead of scanning each table again.
TENANT_FIGURES_AFTER = (3, 4)


@task(name="row counts", cache_policy=NO_CACHE)
def row_counts_task(lock_conn: psycopg.Connection, number: int, run_id: int) -> tuple[dict[str, int], Counts]:
    """The legacy tables' row counts just before the phase was applied (the runner's snapshot) and now: the one
    count after a phase. The validation's row-count check compares its rows up to the snapshot's max id with the
    snapshot (validate_task's `counted`), and the next phase's apply takes it as its snapshot while fresh."""
    snapshot = ledger.snapshot(lock_conn, run_id)
    before = Counts(snapshot).rows()
    after = table_stats(lock_conn, since=snapshot, tenants=number in TENANT_FIGURES_AFTER)
    send_artifact(create_table_artifact, [{"table": t, "before": before.get(t), "after": n,
                                           "of them there before": after.kept[t]} for t, n in after.rows().items()],
                  key=f"row-counts-phase-{number}", description="row counts before/after")
    return before, after
