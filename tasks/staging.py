"""Tasks of the staging dry run beyond migrate and rollback: what the copy looks like, to compare."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tenant_migrate import fingerprint as fingerprints
from tenant_migrate.db import catalog_shape, connection, row_counts


@task(name="schema and row counts", cache_policy=NO_CACHE)
def schema_and_rows_task(dsn: str) -> tuple[list[Any], dict[str, int]]:
    """The public schema's catalog shape and the legacy tables' row counts."""
    with connection(dsn) as conn:
        return catalog_shape(conn), row_counts(conn)


@task(name="fingerprint", cache_policy=NO_CACHE)
def fingerprint_task(dsn: str, label: str, compare_with: str | None = None) -> list[str]:
    """A content fingerprint of the app's tables, kept under `label`; compared with the one kept under
    `compare_with` (over its tables and columns): the differences, one line per table and chunk."""
    with connection(dsn) as conn:
        before = fingerprints.load(conn, compare_with) if compare_with else None
    now = fingerprints.take(dsn, before.columns if before else None)
    with connection(dsn) as conn:
        fingerprints.save(conn, label, now)
    found = fingerprints.differences(before, now) if before else []
    get_run_logger().info("fingerprint %s: %s rows of %d tables in %.1f s%s", label, f"{now.rows:,}", len(now.chunks),
                          now.seconds, f"; {len(found)} differences with {compare_with}" if before else "")
    return found
