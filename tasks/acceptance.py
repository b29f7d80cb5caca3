"""The acceptance checklist task: the plan's "Testing & Validation", every line measured, as a table artifact."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tenant_migrate.acceptance.checklist import run_checklist, summary
from tenant_migrate.errors import MigrationError


@task(name="acceptance checklist", cache_policy=NO_CACHE)
def acceptance_task(dsn: str, load_tenants: int, load_seconds: float) -> list[dict[str, Any]]:
    """Run every line; the table artifact `acceptance-checklist` holds one row per line with its evidence. Fails if
    a line fails."""
    lines = run_checklist(dsn, load_tenants=load_tenants, load_seconds=load_seconds)
    verdict = summary(lines)
    create_table_artifact(
        [{"section": x["section"], "check": x["check"], "result": "pass" if x["ok"] else "FAIL",
          "evidence": x["evidence"]} for x in lines],
        key="acceptance-checklist", description=verdict)
    get_run_logger().info(verdict)
    if not all(x["ok"] for x in lines):
        raise MigrationError(verdict)
    return lines
