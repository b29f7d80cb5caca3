"""Tasks of the staging dry run beyond migrate and rollback: what the copy looks like, to compare."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from tenant_migrate.db import connection, fingerprint, row_counts


@task(name="schema and row counts", cache_policy=NO_CACHE)
def schema_and_rows_task(dsn: str) -> tuple[list[Any], dict[str, int]]:
    """The public schema's catalog fingerprint and the legacy tables' row counts."""
    with connection(dsn) as conn:
        return fingerprint(conn), row_counts(conn)
