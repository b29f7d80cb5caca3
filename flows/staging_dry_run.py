"""The `staging_dry_run` flow: rehearse the whole migration on a copy, undo it, compare, drop the copy.

It only reads the source (pg_dump, and pg_stat_statements for the app's statements, which are checked on the copy
before and after each phase); everything it writes goes to the copy, on the staging server (production's own
cluster only when explicitly allowed); the dump that carried the copy is deleted. The copy has no live writes, so
the comparisons are exact: the content fingerprint of the app's tables taken before phase 1 must be the same
after the migration and after the rollback, and the catalog after the rollback must be the one before.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tenant_migrate.dsn import describe
from tenant_migrate.errors import MigrationError
from tenant_migrate.flows.forecast import publish_rates
from tenant_migrate.flows.migrate import flat, migrate_phases
from tenant_migrate.flows.session import backup_root, resolve_database
from tenant_migrate.steps import Settings
from tenant_migrate.tasks.apply import rollback_all_task
from tenant_migrate.tasks.backup import copy_database_task, drop_copy_task
from tenant_migrate.tasks.compat import app_statements_report_task
from tenant_migrate.tasks.staging import fingerprint_task, schema_and_rows_task


@flow(name="staging-dry-run")
def staging_dry_run(database: str = "", staging: str = "", allow_same_cluster: bool = False,
                    backup_dir: str | None = None, keep_copy: bool = False) -> dict[str, Any]:
    """Copy the source onto the staging server, migrate the copy with auto approval, roll it all back, compare,
    report. `database` (the source) and `staging` (a database of the staging server, where the copy is created) are
    each a DSN (no password) or a Prefect Secret block name; `database` empty: $DATABASE_URL. `staging` empty: the
    source's own server, which `allow_same_cluster` must allow (a copy beside production doubles its disk and load).
    """
    source = resolve_database(database)
    server = resolve_database(staging) if staging else source
    copy = copy_database_task(source, server, backup_root(backup_dir), allow_same_cluster)
    try:
        start = schema_and_rows_task(copy)
        fingerprint_task(copy, "before phase 1")
        started = time.monotonic()
        phases = migrate_phases(copy, to=None, approval="auto", approval_timeout_s=60, backup_dir=None,
                                settings=Settings(), poll_interval=5, app_dsn=source)
        migrated_s = time.monotonic() - started
        changed_by_migration = fingerprint_task(copy, "after the migration", "before phase 1")
        undone = rollback_all_task(copy)
        publish_rates(copy)  # the rollbacks' rates too, before the copy and its ledger go
        end = schema_and_rows_task(copy)
        changed_by_rollback = fingerprint_task(copy, "after the rollback", "before phase 1")
        report: dict[str, Any] = {
            "source": describe(source),
            "copy": describe(copy).rsplit("/", 1)[-1],
            "staging_server": describe(server).rsplit("/", 1)[0],
            "phases": phases,
            "migration_seconds": round(migrated_s, 1),
            "rollback_seconds": round(sum(o.seconds for o in undone), 1),
            "schema_restored": start[0] == end[0],
            "row_counts_restored": start[1] == end[1],
            "app_data_unchanged_after_migration": not changed_by_migration,
            "app_data_unchanged_after_rollback": not changed_by_rollback,
            "app_data_differences": changed_by_migration + changed_by_rollback,
            "app_statements": app_statements_report_task(phases),
        }
        create_table_artifact(flat(phases), key="dry-run-phases", description="per-phase durations and validation")
        create_markdown_artifact(
            f"### Staging dry run of {report['source']}\n"
            f"- migration: {report['migration_seconds']} s on a full copy (production estimate: the same, "
            f"plus the live write load)\n- rollback of every phase: {report['rollback_seconds']} s\n"
            f"- schema after rollback equals the start: {report['schema_restored']}\n"
            f"- row counts after rollback equal the start: {report['row_counts_restored']}\n"
            f"- the app's data (content fingerprint of every table of the app's, before phase 1) unchanged after "
            f"the migration: {report['app_data_unchanged_after_migration']}, after the rollback: "
            f"{report['app_data_unchanged_after_rollback']}\n"
            + "".join(f"  - differs: {line}\n" for line in report["app_data_differences"][:20]),
            key="dry-run-report",
            description="staging dry run",
        )
        if report["app_data_differences"]:
            raise MigrationError(f"dry run: the app's data changed: {report['app_data_differences'][0]}")
        if not (report["schema_restored"] and report["row_counts_restored"]):
            raise MigrationError("dry run: rolling every phase back did not restore the starting schema and rows")
        return report
    finally:
        if not keep_copy:
            drop_copy_task(source, server, copy)
