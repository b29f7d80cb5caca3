"""What every task module shares: the retry condition, progress artifacts, artifact keys, and the
engine's names a flow needs (its error, its settings, the checks of its parameters, how a database is named in
logs)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg
from prefect.artifacts import create_progress_artifact, update_progress_artifact

from tenant_migrate.dsn import describe
from tenant_migrate.errors import MigrationError
from tenant_migrate.options import check_migrate_options, check_rollback_options
from tenant_migrate.plan import Phase
from tenant_migrate.steps import TRANSIENT_ERRORS, Settings

__all__ = ["MigrationError", "Phase", "Settings", "artifact_key", "check_migrate_options", "check_rollback_options",
           "describe", "only_transient", "progress_reporter"]

TRANSIENT = (psycopg.OperationalError, *TRANSIENT_ERRORS)


def only_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry a task only when it failed for a reason that may pass by itself (Prefect's retry_condition_fn)."""
    try:
        state.result()
    except TRANSIENT:
        return True
    except Exception:  # noqa: BLE001 - any other failure is final
        return False
    return False


def progress_reporter(key: str, description: str, every_s: float = 2.0) -> Callable[[float], None]:
    """A progress artifact, and a function that updates it at most every `every_s` (an API call each)."""
    artifact = create_progress_artifact(0.0, key=key, description=description)
    last = [time.monotonic()]

    def report(percent: float) -> None:
        if percent >= 100 or time.monotonic() - last[0] >= every_s:
            last[0] = time.monotonic()
            update_progress_artifact(artifact, min(100.0, percent))  # type: ignore[arg-type]  # sync: a UUID

    return report


def artifact_key(text: str) -> str:
    """Prefect artifact keys: lowercase letters, digits and dashes."""
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")
