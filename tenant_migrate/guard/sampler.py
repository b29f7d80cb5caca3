"""The guard: a thread beside a phase that reads PostgreSQL's own views on a connection of its own, several times a
second, and bounds what the migration does to the live app and its replicas.

- An app session that has waited on the migration's work session longer than the lock-wait budget: the guard
  cancels the migration's statement (never the app's); the runner retries it later, as after a lock timeout
  (steps.Settings.cancel_claims asks the guard whether a cancel was its own).
- A standby over the replica-lag budget: at the next guard point (before a step, a generated statement, a batch)
  the migration waits until every standby is under half the budget, and says so (notify). The same for
  the app's statements running more than the app-latency budget slower than usual (latency.py, read every second);
  a statement already running goes on: the long ones (validations, index builds) are one per guard point.
- The ceiling (budgets times `ceiling`, or a pause longer than `max_pause_s`): the phase stops at the next guard
  point, or at once if the work session is running a statement (it is cancelled). The ledger keeps the position,
  so the phase resumes where it stopped.

The app's statements in pg_stat_activity hold their values (a customer's phone number): they enter the figures as
pg_stat_statements normalized them (by query id), else redacted (evidence.redact): no value reaches a gate or a log.

A standby's lag is PostgreSQL's replay_lag, or, when its replay position has stood still while the primary wrote
past it (replay paused, a long conflict), the time since then as the guard saw it: PostgreSQL's own figure only
moves when replay moves. Seen from the guard's start only, so a standby already stuck before is under-reported.
"""

from __future__ import annotations

import bisect
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tenant_migrate.db import (
    APPLICATION_NAME,
    GUARD_APPLICATION_NAME,
    WORK_APPLICATION_NAME,
    catalog_search_path,
    connect,
    scalar,
)
from tenant_migrate.errors import GuardStopped, MigrationError, first_line
from tenant_migrate.evidence import redact
from tenant_migrate.guard.budgets import MB, Budgets
from tenant_migrate.guard.figures import Figures, Reading, StandbyLag, statement_line
from tenant_migrate.guard.latency import AppLatency
from tenant_migrate.paths import read_sql
from tenant_migrate.steps import Settings

log = logging.getLogger("tenant_migrate.guard")

FRESH_READING_S = 2.0  # a guard point near the budget waits at most this long for a fresh reading
LATENCY_EVERY_S = 1.0  # how often the app's latency is read (pg_stat_statements), while pacing is on
LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")


def human_bytes(n: float) -> str:
    return f"{n / MB:.1f} MB" if abs(n) >= MB / 10 else f"{n / 1024:.0f} kB"


class Guard:
    """Start it before a phase, hand `settings(...)` to the runner, call `stage(...)` between the phase's parts,
    stop it after: `stop()` returns the figures (figures.Figures.summary)."""

    def __init__(self, dsn: str, budgets: Budgets | None = None, notify: Callable[[str], None] | None = None) -> None:
        self.dsn, self.budgets = dsn, budgets or Budgets()
        self.notify = notify or (lambda message: log.warning("%s", message))
        self.figures = Figures(self.budgets)
        self.latest: Reading | None = None
        self.stopped: str | None = None  # the ceiling reached, said as the reason
        self.visible = False
        self.queries = 0
        self._cond = threading.Condition()
        self._wake, self._ending = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection | None = None
        self._seq, self._t0 = 0, time.monotonic()
        self._history: list[tuple[float, int]] = []  # (t, primary WAL position) each time the position moved
        self._replay: dict[str, tuple[int | None, float]] = {}  # standby -> (replay position, t first seen there)
        self._cancelled: dict[int, str] = {}  # work session pid -> why the guard cancelled its statement
        self._cancel_tried: set[tuple[int, str]] = set()
        self._statement_texts: sql.Composed | None = None  # sql/guard/statement_text.sql, with pg_stat_statements
        self._normalized: dict[int, str | None] = {}  # query id -> pg_stat_statements' text
        self._work: list[dict[str, Any]] = []
        self._cpu_s = 0.0
        self._server_cpu_s: float | None = None  # None: the server's processes cannot be read from here
        self._server_cpu_mark: float | None = None
        self._latency: AppLatency | None = None
        self.app_latency: tuple[float, float, int] | None = None  # (t, added ms per call, calls) of the last reading
        host = str(conninfo_to_dict(dsn).get("host") or "")
        self._local = host.startswith("/") or host in LOCAL_HOSTS

    # --- life ------------------------------------------------------------------------------------------------

    def start(self) -> Guard:
        """Connect and take the first reading before returning, so that the phase starts watched."""
        self._t0 = time.monotonic()
        self._connect()
        self._thread = threading.Thread(target=self._run, name="tenant-migrate-guard", daemon=True)
        self._thread.start()
        with self._cond:
            self._cond.wait_for(lambda: self._seq > 0, timeout=10)
        return self

    def stop(self, covered: bool = True) -> dict[str, Any]:
        """Stop sampling; the figures. `covered`: the guard was started before the phase's first part and stopped
        after its last (the caller knows)."""
        self._ending.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)
        server_cpu_s = round(self._server_cpu_s, 3) if self._server_cpu_s is not None else None
        return self.figures.summary(seconds=time.monotonic() - self._t0, queries=self.queries, cpu_s=self._cpu_s,
                                    server_cpu_s=server_cpu_s, visible=self.visible, covered=covered,
                                    stopped=self.stopped)

    def settings(self, base: Settings) -> Settings:
        """The runner's settings with this guard at every guard point and as a claimant of cancels."""
        return replace(base, guards=(*base.guards, self), cancel_claims=(*base.cancel_claims, self.claim))

    # --- the hooks the runner and the tasks call (on their own thread) ------------------------------------

    def stage(self, name: str) -> None:
        """A part of the phase starts (preflight, backup, apply, validate); stops here if the ceiling was reached."""
        with self._cond:
            self.figures.step(name)
        self._raise_if_stopped("; it resumes where it stopped: run migrate again once the app or replica caught up "
                               "(or raise the budget), or roll back")

    def __call__(self, label: str) -> None:
        """A guard point (steps.Settings.guards): stop at the ceiling; pause while a standby is over budget."""
        with self._cond:
            self.figures.step(label)
        self._raise_if_stopped()
        reading = self._reading_for_decision()
        worst = reading.worst(self.budgets) if reading else None
        if worst is not None and self.budgets.over(worst.lag_s, worst.behind_bytes):
            worst = self._pause(label, worst)
        if self._app_slower(1.0):
            self._pace(label)
        with self._cond:
            self.figures.went_on(worst)

    def claim(self, pid: int) -> str | None:
        """Was the cancel of the work session `pid`'s statement ours? Why, if so; raises at the ceiling."""
        with self._cond:
            reason = self._cancelled.pop(pid, None)
        self._raise_if_stopped()
        if reason:
            self.notify(f"{self.figures.steps[-1]['step']}: {reason}; retried later")
        return reason

    # --- sampling (the guard's thread) --------------------------------------------------------------------

    def _connect(self) -> None:
        conn = catalog_search_path(connect(self.dsn, application_name=GUARD_APPLICATION_NAME))
        # the guard must never be what blocks or stalls anything
        conn.execute("SELECT set_config('statement_timeout', '5s', false), set_config('lock_timeout', '100ms', false)")
        self.visible = bool(scalar(conn, read_sql("guard/visibility.sql")))
        if extension := conn.execute(read_sql("compat/extension.sql")).fetchone():
            self._statement_texts = sql.SQL(read_sql("guard/statement_text.sql")).format(
                schema=sql.Identifier(extension[0]))
        if self.budgets.app_latency_ms and self._latency is None:
            self._latency = AppLatency.start(conn)
            self.figures.pacing_note = self._latency.note
        self._conn, self._server_cpu_mark = conn, self._backend_cpu(conn)

    def _disconnect(self) -> None:
        if self._conn is not None:
            self._count_server_cpu()
            self._conn.close()
            self._conn = None

    def _run(self) -> None:
        cpu_started = time.thread_time()
        query = read_sql("guard/sample.sql")
        while not self._ending.is_set():
            began = time.monotonic()
            try:
                if self._conn is None:
                    self._connect()
                self._sample(query)
            except (psycopg.Error, MigrationError) as exc:
                self.figures.errors += 1
                if self.figures.errors in (1, 10, 100):
                    log.warning("guard: reading failed (%s); retrying", first_line(exc))
                self._disconnect()
            self._cpu_s = time.thread_time() - cpu_started
            self._wake.wait(max(0.0, self.budgets.interval_s - (time.monotonic() - began)))
            self._wake.clear()
        self._disconnect()
        self._cpu_s = time.thread_time() - cpu_started

    def _sample(self, query: str) -> None:
        assert self._conn is not None
        row = self._conn.execute(query, {"ours": APPLICATION_NAME, "work": WORK_APPLICATION_NAME}).fetchone()
        self.queries += 1
        assert row is not None
        t = time.monotonic() - self._t0
        _, lsn, waits, standbys, slots, oldest, active, work = row
        for app in [*waits, *([oldest] if oldest else [])]:
            app["query"] = self._app_statement(app.pop("query_id"), app["query"])
        if not self._history or self._history[-1][1] != lsn:
            self._history.append((t, lsn))
        reading = Reading(t, lsn, waits, [self._lag_of(s, t) for s in standbys], slots, oldest, active)
        self._forget_history(standbys)
        latency = None
        if self._latency and not self._latency.note and (self.app_latency is None or
                                                         t - self.app_latency[0] >= LATENCY_EVERY_S):
            try:
                latency = (t, *self._latency.read(self._conn))
            except psycopg.Error as exc:  # a reading that fails ends the pacing, never the guard's other readings
                self._latency.note = self.figures.pacing_note = f"no pacing by the app's latency: {first_line(exc)}"
            self.queries += 1
        with self._cond:
            self._work = work
            if latency:
                self.app_latency = latency
                self.figures.latency(latency[1])
            self.figures.add(reading)
            self.latest, self._seq = reading, self._seq + 1
            self._enforce(reading)
            self._cond.notify_all()

    def _app_statement(self, query_id: int | None, text: str | None) -> str:
        """An app statement as evidence: pg_stat_statements' text of its query id where there is one, else the text
        as read; redacted either way (pg_stat_statements keeps constants in utility commands and comments)."""
        if query_id and self._statement_texts is not None and query_id not in self._normalized:
            assert self._conn is not None
            found = self._conn.execute(self._statement_texts, {"query_id": query_id}).fetchone()
            self.queries += 1
            self._normalized[query_id] = found[0] if found else None
        return redact(self._normalized.get(query_id or 0) or text or "")

    def _lag_of(self, s: dict[str, Any], t: float) -> StandbyLag:
        replay, behind = s["replay_lsn"], max(0, int(s["behind_bytes"] or 0))
        seen = self._replay.get(s["name"])
        since = seen[1] if seen and seen[0] == replay else t
        self._replay[s["name"]] = (replay, since)
        lag = 0.0
        if replay is not None and behind > 0:
            positions = [p for _, p in self._history]
            beyond = self._history[min(bisect.bisect_right(positions, replay), len(positions) - 1)][0]
            lag = max(t - max(since, beyond), float(s["replay_lag_s"] or 0))
        return StandbyLag(s["name"], lag, behind, float(s["write_lag_s"] or 0), float(s["flush_lag_s"] or 0),
                       float(s["replay_lag_s"] or 0))

    def _forget_history(self, standbys: list[dict[str, Any]]) -> None:
        """Keep the WAL positions from the last one at or before the slowest standby's replay position."""
        replays = [s["replay_lsn"] for s in standbys if s["replay_lsn"] is not None]
        positions = [p for _, p in self._history]
        keep_from = bisect.bisect_right(positions, min(replays)) - 1 if replays else len(positions) - 1
        del self._history[:max(0, keep_from)]

    # --- acting on a reading (under the condition's lock) ----------------------------------------------------

    def _enforce(self, reading: Reading) -> None:
        for wait in reading.waits:
            ms = float(wait["wait_ms"] or 0)
            if ms > self.budgets.lock_wait_ceiling_ms:
                self._stop(f"app session pid {wait['pid']} waited {ms / 1000:.1f} s on the migration "
                           f"({wait['blocker_name']}: {statement_line(wait['blocker_query'])!r}), over the ceiling "
                           f"of {self.budgets.lock_wait_ceiling_ms / 1000:g} s")
            elif ms > self.budgets.lock_wait_ms and wait["blocker_name"] == WORK_APPLICATION_NAME:
                self._cancel_for(reading, wait, ms)
        worst = reading.worst(self.budgets)
        if worst and self.budgets.over(worst.lag_s, worst.behind_bytes, self.budgets.ceiling):
            self._stop(f"standby {worst.name} is {worst.lag_s:.1f} s and {human_bytes(worst.behind_bytes)} behind, "
                       f"at the ceiling ({self.budgets.ceiling:g}x the budget: "
                       f"{self.budgets.lag_s * self.budgets.ceiling:g} s or "
                       f"{self.budgets.lag_mb * self.budgets.ceiling:g} MB)")

    def _cancel_for(self, reading: Reading, wait: dict[str, Any], ms: float) -> None:
        key = (wait["blocker"], str(wait["blocker_started"]))
        if key in self._cancel_tried:
            return
        self._cancel_tried.add(key)
        if self._cancel(wait["blocker"], wait["blocker_started"]):
            self._cancelled[wait["blocker"]] = (
                f"cancelled by the guard: app session pid {wait['pid']} waited {ms:.0f} ms on it "
                f"(budget {self.budgets.lock_wait_ms} ms): {statement_line(wait['query'])!r}")
            self.figures.cancelled(reading.t, wait)
            log.warning("guard: app session pid %s waited %.0f ms on the migration: cancelled the migration's "
                        "statement (it is retried later)", wait["pid"], ms)

    def _cancel(self, pid: int, started: Any) -> bool:
        assert self._conn is not None
        row = self._conn.execute(read_sql("guard/cancel.sql"),
                                 {"pid": pid, "work": WORK_APPLICATION_NAME, "started": started}).fetchone()
        self.queries += 1
        return bool(row and row[0])

    def _stop(self, reason: str) -> None:
        """The ceiling: remember why; cancel the work session's running statement so that it stops now."""
        if self.stopped:
            return
        self.stopped = reason
        log.error("guard: %s: stopping the phase", reason)
        for work in self._work:
            if work["state"] == "active" and self._cancel(work["pid"], work["started"]):
                self._cancelled[work["pid"]] = reason

    # --- guard points ---------------------------------------------------------------------------------------

    def _raise_if_stopped(self, advice: str = "") -> None:
        if self.stopped:
            raise GuardStopped(f"guard stopped the phase: {self.stopped}{advice}", reason=self.stopped)

    def _reading_for_decision(self) -> Reading | None:
        """The latest reading, or a fresh one when the latest is near the budget or old."""
        with self._cond:
            latest = self.latest
            worst = latest.worst(self.budgets) if latest else None
            old = latest is None or time.monotonic() - self._t0 - latest.t > 3 * self.budgets.interval_s
            if not old and not (worst and self.budgets.over(worst.lag_s, worst.behind_bytes, 0.5)):
                return latest
            seq = self._seq
            self._wake.set()
            self._cond.wait_for(lambda: self._seq > seq or self._ending.is_set(), timeout=FRESH_READING_S)
            return self.latest

    def _pause(self, label: str, worst: StandbyLag) -> StandbyLag | None:
        """Wait until every standby is under half the budget; raise at the ceiling or after max_pause_s."""
        started, t = time.monotonic(), time.monotonic() - self._t0
        reason = (f"standby {worst.name} is {worst.lag_s:.1f} s and {human_bytes(worst.behind_bytes)} behind, over "
                  f"the budget ({self.budgets.lag_s:g} s or {self.budgets.lag_mb:g} MB)")
        self.notify(f"{label}: paused: {reason}; going on once every standby is under {self.budgets.lag_s / 2:g} s "
                    f"and {self.budgets.lag_mb / 2:g} MB")
        current: StandbyLag | None = worst
        with self._cond:
            while current is not None and self.budgets.over(current.lag_s, current.behind_bytes, 0.5):
                self._cond.wait(timeout=2 * self.budgets.interval_s)
                waited = time.monotonic() - started
                if waited > self.budgets.max_pause_s and not self.stopped:
                    self.stopped = f"paused {waited:.0f} s, longer than the {self.budgets.max_pause_s:g} s allowed: " \
                                   f"{reason}"
                if self.stopped:
                    self.figures.paused(label, t, waited, reason)
                    raise GuardStopped(f"guard stopped the phase: {self.stopped}", reason=self.stopped)
                current = self.latest.worst(self.budgets) if self.latest else None
            waited = time.monotonic() - started
            self.figures.paused(label, t, waited, reason)
        now = f"{current.lag_s:.1f} s and {human_bytes(current.behind_bytes)} behind" if current else "gone"
        self.notify(f"{label}: resumed after {waited:.1f} s: standby {worst.name} {now}")
        return current

    def _app_slower(self, factor: float) -> bool:
        """Were the app's statements, at the last reading, over `factor` times the app-latency budget slower?"""
        return bool(self.app_latency and self.budgets.app_latency_ms
                    and self.app_latency[1] > self.budgets.app_latency_ms * factor)

    def _pace(self, label: str) -> None:
        """Wait until the app's statements are under half the budget slower; raise after max_pause_s."""
        assert self.app_latency is not None
        started, t = time.monotonic(), time.monotonic() - self._t0
        reason = (f"the app's statements ran {self.app_latency[1]:.0f} ms slower than usual (mean over "
                  f"{self.app_latency[2]:,} calls in the last second), over the budget ({self.budgets.app_latency_ms:g}"
                  " ms)")
        self.notify(f"{label}: paused: {reason}; going on once under {self.budgets.app_latency_ms / 2:g} ms")
        with self._cond:
            while self._app_slower(0.5):
                self._cond.wait(timeout=2 * self.budgets.interval_s)
                waited = time.monotonic() - started
                if waited > self.budgets.max_pause_s and not self.stopped:
                    self.stopped = f"paused {waited:.0f} s, longer than the {self.budgets.max_pause_s:g} s allowed: " \
                                   f"{reason}"
                if self.stopped:
                    self.figures.paused(label, t, waited, reason)
                    raise GuardStopped(f"guard stopped the phase: {self.stopped}", reason=self.stopped)
            waited = time.monotonic() - started
            self.figures.paused(label, t, waited, reason)
        latest = self.app_latency[1] if self.app_latency else 0.0
        self.notify(f"{label}: resumed after {waited:.1f} s: the app's statements {latest:.0f} ms slower than usual")

    # --- the guard's own cost on the server -----------------------------------------------------------------

    def _backend_cpu(self, conn: psycopg.Connection) -> float | None:
        """CPU seconds of the guard's backend process, when the server runs on this machine."""
        if not self._local:
            return None
        proc = Path(f"/proc/{conn.info.backend_pid}")
        try:
            if proc.joinpath("comm").read_text().strip() != "postgres":
                return None
            fields = proc.joinpath("stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _count_server_cpu(self) -> None:
        if self._conn is not None and self._server_cpu_mark is not None:
            now = self._backend_cpu(self._conn)
            if now is not None:
                self._server_cpu_s = (self._server_cpu_s or 0.0) + now - self._server_cpu_mark
