"""The guard beside a phase of a flow: started before the phase's first part, stopped after its last; its pauses
and cancels said in the run's log and the UI while they happen; its figures in the gate, in a Prefect artifact
(with the plot of lag and app waits beside the Data Docs) and in the ledger.

The plot is drawn on a thread of its own while the flow goes on (about half a second of matplotlib per phase,
docs/speed.md); a flow waits for it before it returns (drawing_plots)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from tenant_migrate import ledger
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import GuardStopped, PhaseFailed, first_line
from tenant_migrate.evidence import md_text
from tenant_migrate.guard import Budgets, Guard
from tenant_migrate.guard.plot import plot
from tenant_migrate.guard.report import markdown
from tenant_migrate.guard.store import record
from tenant_migrate.plan import Phase
from tenant_migrate.steps import Settings
from tenant_migrate.tasks.common import artifact_key, send_artifact
from tenant_migrate.validation.checkpoints import reports_dir_default

__all__ = ["Budgets", "Watch", "drawing_plots", "watching"]

log = logging.getLogger("tenant_migrate.guard")
_drawing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tenant-migrate-plot")
_drawn: list[Future[Path | None]] = []


def _draw(figures: dict[str, Any], series: list[tuple[float, float, float, int]], title: str,
          path: Path) -> Path | None:
    try:
        return plot(figures, series, title, path)
    except Exception as exc:  # noqa: BLE001 - a plot that fails must not fail the phase; the figures stay
        log.warning("guard: no plot %s (%s: %s); the figures are in the artifact", path.name, type(exc).__name__, exc)
        return None


@contextmanager
def drawing_plots() -> Iterator[None]:
    """Around a flow's phases: when the block ends, every guard plot it started is drawn, so that each plot its
    artifacts link to is there when the flow returns."""
    try:
        yield
    finally:
        while _drawn:
            _drawn.pop(0).result()


class Watch:
    """One guarded phase of a flow. The flow calls stage() before each part and hands settings() to the apply or
    rollback task; after the phase, `evidence` holds what the gate shows."""

    def __init__(self, dsn: str, lock_conn: psycopg.Connection, target: Phase, direction: str, budgets: Budgets,
                 whole: bool) -> None:
        self.dsn, self.lock_conn, self.target, self.direction, self.whole = dsn, lock_conn, target, direction, whole
        self.key = artifact_key(f"guard-{'' if direction == 'up' else 'rollback-'}phase-{target.number}")
        self.guard = Guard(dsn, budgets, notify=self._say)
        self.run_id: int | None = None  # the phase run watched, when the flow knows it
        self._runs_before = (ledger.latest_run(lock_conn, target.number, direction) or {}).get("id")
        self.evidence: dict[str, Any] = {}

    def stage(self, name: str) -> None:
        self.guard.stage(name)

    def settings(self, base: Settings) -> Settings:
        return self.guard.settings(base)

    def _say(self, message: str) -> None:
        """A pause, a resume or a cancel: in the run's log, and as the phase's live guard artifact in the UI."""
        get_run_logger().warning("guard: %s", message)
        create_markdown_artifact(f"**{time.strftime('%H:%M:%S')}** phase {self.target.number}: {md_text(message)}",
                                 key=f"{self.key}-now", description="the guard, now")

    def finish(self) -> dict[str, Any]:
        """Stop the guard; keep and show its figures; the gate's evidence."""
        figures = self.guard.stop(covered=self.whole)
        latest = ledger.latest_run(self.lock_conn, self.target.number, self.direction) if ledger.exists(
            self.lock_conn) else None
        run_id = latest["id"] if latest and latest["id"] != self._runs_before else self.run_id
        title = f"Guard: phase {self.target.number} `{self.target.name}`" + \
            ("" if self.direction == "up" else " (rollback)")
        section = markdown(figures, title)
        folder = reports_dir_default() / (f"{database_name(self.dsn)}-run-{run_id}" if run_id else
                                          f"{database_name(self.dsn)}-phase-{self.target.number}")
        png, series = folder / f"{self.key}.png", self.guard.figures.downsampled()
        _drawn.append(_drawing.submit(_draw, figures, series, title, png))
        if run_id is not None:  # a phase refused before its run started leaves the database as it was
            record(self.lock_conn, phase=self.target.number, direction=self.direction, run_id=run_id,
                   flow_run_id=flow_run.id, figures=figures, series=series, plot_path=str(png))
        send_artifact(create_markdown_artifact, section + f"\n\nPlot: [{png.name}]({png.as_uri()})", key=self.key,
                      description="what the migration did to the app and its replicas")
        send_artifact(create_link_artifact, png.as_uri(), link_text="lag and app waits over the phase (PNG)",
                      key=f"{self.key}-plot")
        get_run_logger().info("%s", section.splitlines()[1])  # "The guard ran for the whole phase: ..."
        self.evidence = {"monitoring": figures, "sections": [section]}
        return self.evidence


@contextmanager
def watching(dsn: str, lock_conn: psycopg.Connection, target: Phase, direction: str, budgets: Budgets,
             whole: bool = True) -> Iterator[Watch]:
    """The guard around a phase. `whole`: the block is the whole phase (false when a phase applied by an earlier
    run is only validated again: its apply was not watched). A failure inside is raised again; when the guard
    stopped the phase, the failure says why."""
    watch = Watch(dsn, lock_conn, target, direction, budgets, whole)
    watch.guard.start()
    try:
        yield watch
    except Exception as exc:
        try:
            watch.finish()
        except Exception as unrecorded:  # noqa: BLE001 - the phase's own failure is the one to raise
            get_run_logger().warning("guard: figures not recorded (%s)", first_line(unrecorded))
        stopped = watch.guard.stopped
        said = isinstance(exc.cause if isinstance(exc, PhaseFailed) else exc, GuardStopped)
        if stopped and not said:
            raise GuardStopped(f"guard stopped phase {target.number} {target.name}: {stopped}; it resumes where it "
                               "stopped: run migrate again, or roll back", reason=stopped) from exc
        raise
    except BaseException:
        watch.guard.stop(covered=False)
        raise
    watch.finish()
