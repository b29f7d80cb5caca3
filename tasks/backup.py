"""Backup tasks: the verified backup before a phase, and the copy a staging dry run works on."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tenant_migrate import demo
from tenant_migrate.backup import dump, restore, store
from tenant_migrate.dsn import database_name, describe, with_database
from tenant_migrate.tasks.common import only_transient, progress_reporter


@task(name="backup", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=only_transient)
def backup_task(dsn: str, number: int, backup_dir: Path, database_size_bytes: int = 0) -> dict[str, Any]:
    """pg_dump the database and verify the dump (sha256 + pg_restore --list); progress in an artifact."""
    estimate = max(1, database_size_bytes // 4)  # the custom format compresses about 4x
    report = progress_reporter(f"backup-phase-{number}", "pg_dump progress")
    manifest = dump.backup(dsn, phase=number, backup_dir=backup_dir,
                           progress=lambda written: report(min(99.0, 100 * written / estimate)))
    report(100.0)
    get_run_logger().info("backup %s verified (sha256 %s)", manifest["path"], manifest["sha256"][:12])
    return {
        "path": manifest["path"],
        "sha256": manifest["sha256"],
        "size_bytes": manifest["size_bytes"],
        "seconds": manifest["seconds"],
        "verified": bool(manifest.get("verification")),
    }


@task(name="copy database", cache_policy=NO_CACHE)
def copy_database_task(source: str, server: str, backup_dir: Path, allow_same_cluster: bool) -> str:
    """A copy of the source database on `server` (the staging server; production's own only if allowed), from a
    verified backup: the DSN of the copy. Only reads the source (pg_dump); the dump is deleted once restored."""
    restore.check_copy_server(source, server, allow_same_cluster=allow_same_cluster)
    copy_name = f"{database_name(source)}_dry_run_{int(time.time())}"
    get_run_logger().info("copying %s to %s on %s", describe(source), copy_name, describe(server))
    manifest = dump.backup(source, phase=None, backup_dir=backup_dir, label="dry-run")
    try:
        restore.restore(manifest["path"], server, yes=True, new_database=copy_name)
    finally:
        store.remove(manifest["path"])
    return with_database(server, copy_name)


@task(name="drop copy", cache_policy=NO_CACHE)
def drop_copy_task(source: str, server: str, copy: str) -> None:
    """Drop the staging copy on its server (never the source, nor the server's own database: the name must differ)."""
    if database_name(copy) in (database_name(source), database_name(server)):
        raise ValueError("refusing to drop the source database")
    demo.drop_database(server, database_name(copy))
    get_run_logger().info("dropped the copy %s", database_name(copy))
