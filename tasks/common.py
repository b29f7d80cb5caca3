"""What every task module shares: the retry condition, progress artifacts, artifact keys and the thread that sends
artifacts; and the run without a heartbeat of its own that a flow's subflows use."""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import psycopg
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.context import SettingsContext, get_settings_context
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY
from prefect.settings import Settings as PrefectSettings

from tenant_migrate.steps import TRANSIENT_ERRORS

log = logging.getLogger("tenant_migrate.flow")
_sending = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenant-migrate-artifacts")
_sent: list[Future[Any]] = []

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
    """A function that shows progress as an artifact, updated at most every `every_s` (an API call each); the
    artifact is created by the first report below 100%, so work that never reports progress costs no API call."""
    artifact: list[Any] = []
    last = [0.0]

    def report(percent: float) -> None:
        if not artifact:
            if percent < 100:
                artifact.append(create_progress_artifact(min(100.0, percent), key=key, description=description))
                last[0] = time.monotonic()
            return
        if percent >= 100 or time.monotonic() - last[0] >= every_s:
            last[0] = time.monotonic()
            update_progress_artifact(artifact[0], min(100.0, percent))

    return report


_quiet: dict[int, tuple[PrefectSettings, PrefectSettings]] = {}  # id of settings -> (them, without heartbeat)


@contextmanager
def without_heartbeat() -> Iterator[None]:
    """Flow runs started inside send no heartbeat: for a subflow, which runs in its parent's process and thread,
    the parent's heartbeat already says that the process lives. A heartbeat thread costs its flow run up to a second
    when the run ends (Prefect joins it, and it sleeps in 1 s steps): about 0.6 s per phase, measured
    (docs/speed.md). The settings without it are built once per settings object (that costs 0.1-0.2 s)."""
    context = get_settings_context()
    kept = _quiet.get(id(context.settings))
    if kept is None or kept[0] is not context.settings:
        kept = _quiet[id(context.settings)] = (context.settings, context.settings.copy_with_update(
            updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}))
    with SettingsContext(profile=context.profile, settings=kept[1]):
        yield


def artifact_key(text: str) -> str:
    """Prefect artifact keys: lowercase letters, digits and dashes."""
    return "".join(c if c.isalnum() else "-" for c in text.lower()).strip("-")


def send_artifact(create: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """create(*args, **kwargs) (one of Prefect's create_*_artifact) on a thread of its own, in the caller's run
    context, in the order sent: each is an API call (25-100 ms, measured: docs/speed.md) the flow need not wait
    for. artifacts_sent() waits for them."""
    _sent.append(_sending.submit(contextvars.copy_context().run, create, *args, **kwargs))


@contextmanager
def artifacts_sent() -> Iterator[None]:
    """Around a flow's phases: when the block ends, every artifact sent is created (or its failure logged)."""
    try:
        yield
    finally:
        while _sent:
            try:
                _sent.pop(0).result()
            except Exception as exc:  # noqa: BLE001 - a lost artifact must not fail the migration; the ledger has it
                log.warning("an artifact was not created: %s: %s", type(exc).__name__, exc)
