"""The `staging_dry_run` flow: rehearse the whole migration on a staging copy, then undo it, then drop the copy.

It only reads the source (pg_dump); everything it writes goes to the copy.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.migrate import migrate_phases, resolve_dsn
from tasks import backup, demo, runner
from tasks.db import connection, database_name, describe, fingerprint, row_counts, with_database


@flow(name="staging-dry-run")
def staging_dry_run(database: str = "", backup_dir: str | None = None, keep_copy: bool = False) -> dict[str, Any]:
    """Copy the source, migrate the copy with auto approval, roll it all back, compare, report."""
    source = resolve_dsn(database)
    logger = get_run_logger()
    copy_name = f"{database_name(source)}_dry_run_{int(time.time())}"
    folder = backup.backup_root(backup_dir)
    logger.info("copying %s to %s", describe(source), copy_name)
    manifest = backup.backup(source, phase=None, backup_dir=folder)
    staging = with_database(source, copy_name)
    backup.restore(manifest["path"], source, yes=True, new_database=copy_name)
    try:
        with connection(staging) as conn:
            start = (fingerprint(conn), row_counts(conn))
        started = time.monotonic()
        phases = migrate_phases(
            staging,
            to=None,
            approval="auto",
            approval_timeout_s=60,
            backup_folder=None,
            settings=runner.Settings(),
            poll_interval=5,
        )
        migrated_s = time.monotonic() - started
        undone = runner.rollback(staging, 0)
        with connection(staging) as conn:
            end = (fingerprint(conn), row_counts(conn))
        report = {
            "source": describe(source),
            "copy": copy_name,
            "phases": phases,
            "migration_seconds": round(migrated_s, 1),
            "rollback_seconds": round(sum(o.seconds for o in undone), 1),
            "schema_restored": start[0] == end[0],
            "row_counts_restored": start[1] == end[1],
        }
        create_table_artifact(phases, key="dry-run-phases", description="per-phase durations and validation")
        create_markdown_artifact(
            f"### Staging dry run of {report['source']}\n"
            f"- migration: {report['migration_seconds']} s on a full copy (production estimate: the same, "
            f"plus the live write load)\n- rollback of every phase: {report['rollback_seconds']} s\n"
            f"- schema after rollback equals the start: {report['schema_restored']}\n"
            f"- row counts after rollback equal the start: {report['row_counts_restored']}\n",
            key="dry-run-report",
            description="staging dry run",
        )
        if not (report["schema_restored"] and report["row_counts_restored"]):
            raise RuntimeError("dry run: rolling every phase back did not restore the starting schema and rows")
        return report
    finally:
        if not keep_copy:
            demo.drop_database(source, copy_name)
