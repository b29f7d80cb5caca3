"""The guard's figures for one phase: built sample by sample, summed up once at the end.

Per phase and per step (what ran: preflight, backup, a step's label, validate): the longest app lock wait on the
migration with the blocked statement's first line, each standby's lag and bytes behind, WAL retained by slots,
WAL written and its rate, the oldest app transaction, active app sessions; the pauses, the statements cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tenant_migrate.guard.budgets import Budgets

SERIES_POINTS = 600  # the series kept in the ledger and plotted: at most this many points


def statement_line(statement: str | None, width: int = 120) -> str:
    """The statement's first line that is not blank or a comment (our SQL files open with a header)."""
    lines = [s.strip() for s in (statement or "").splitlines() if s.strip()]
    line = next((s for s in lines if not s.startswith("--")), lines[0] if lines else "")
    return line if len(line) <= width else line[:width - 1] + "…"


@dataclass
class StandbyLag:
    """One standby's reading, its lag estimated by the guard (see sampler.lag_of)."""

    name: str
    lag_s: float
    behind_bytes: int
    write_lag_s: float
    flush_lag_s: float
    replay_lag_s: float


@dataclass
class Reading:
    """One sample of the server's views."""

    t: float  # seconds since the guard started
    lsn: int
    waits: list[dict[str, Any]]
    standbys: list[StandbyLag]
    slots: list[dict[str, Any]]
    oldest: dict[str, Any] | None
    active: int

    def worst(self, budgets: Budgets) -> StandbyLag | None:
        """The standby furthest over (or nearest to) its budget."""
        return max(self.standbys, default=None,
                   key=lambda s: max(s.lag_s / budgets.lag_s, s.behind_bytes / budgets.lag_bytes))


def _step_record(name: str, t: float, lsn: int) -> dict[str, Any]:
    return {"step": name, "started_s": round(t, 2), "seconds": 0.0, "wal_bytes": 0, "start_lsn": lsn,
            "longest_wait_ms": 0.0, "wait": None, "max_lag_s": 0.0, "max_behind_bytes": 0,
            "max_lag_go_s": None, "max_behind_go_bytes": None, "pauses": 0, "paused_s": 0.0}


@dataclass
class Figures:
    budgets: Budgets
    steps: list[dict[str, Any]] = field(default_factory=list)
    episodes: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    standbys: dict[str, dict[str, Any]] = field(default_factory=dict)
    slots: dict[str, int] = field(default_factory=dict)
    oldest: dict[str, Any] | None = None
    active_max: int = 0
    active_sum: int = 0
    samples: int = 0
    errors: int = 0
    longest_gap_s: float = 0.0
    first: Reading | None = None
    last: Reading | None = None
    pauses: list[dict[str, Any]] = field(default_factory=list)
    cancels: list[dict[str, Any]] = field(default_factory=list)
    series: list[tuple[float, float, float, int]] = field(default_factory=list)
    pacing_note: str = ""  # why there is no pacing by the app's latency ('' when it reads)
    latency_readings: int = 0
    latency_max_ms: float = 0.0

    def step(self, name: str) -> None:
        """What runs from now on (the current step keeps the samples until the next one starts)."""
        if self.steps and self.steps[-1]["step"] in (name, "start"):  # "start": before anything was named
            self.steps[-1]["step"] = name
            return
        at, lsn = (self.last.t, self.last.lsn) if self.last else (0.0, 0)
        if self.steps:
            self._close(self.steps[-1], at, lsn)
        self.steps.append(_step_record(name, at, lsn))

    @staticmethod
    def _close(record: dict[str, Any], t: float, lsn: int) -> None:
        record["seconds"] = round(t - record["started_s"], 2)
        record["wal_bytes"] = max(0, lsn - record["start_lsn"]) if record["start_lsn"] else 0

    def add(self, reading: Reading) -> None:
        if self.first is None:
            self.first = reading
            for record in self.steps:
                record["start_lsn"] = record["start_lsn"] or reading.lsn
        if self.last is not None:
            self.longest_gap_s = max(self.longest_gap_s, reading.t - self.last.t)
        self.last, self.samples = reading, self.samples + 1
        if not self.steps:
            self.step("start")
        current = self.steps[-1]
        longest = 0.0
        for wait in reading.waits:
            longest = max(longest, self._wait(wait, current))
        worst_lag, worst_behind = 0.0, 0
        for standby in reading.standbys:
            self._standby(standby)
            worst_lag, worst_behind = max(worst_lag, standby.lag_s), max(worst_behind, standby.behind_bytes)
        current["max_lag_s"] = max(current["max_lag_s"], round(worst_lag, 3))
        current["max_behind_bytes"] = max(current["max_behind_bytes"], worst_behind)
        for slot in reading.slots:
            self.slots[slot["slot"]] = max(self.slots.get(slot["slot"], 0), int(slot["retained_bytes"] or 0))
        if reading.oldest and (self.oldest is None or reading.oldest["age_s"] > self.oldest["age_s"]):
            self.oldest = {"age_s": round(float(reading.oldest["age_s"]), 2), "pid": reading.oldest["pid"],
                           "state": reading.oldest["state"], "statement": statement_line(reading.oldest["query"]),
                           "step": current["step"]}
        self.active_max, self.active_sum = max(self.active_max, reading.active), self.active_sum + reading.active
        self.series.append((round(reading.t, 2), round(longest, 1), round(worst_lag, 3), worst_behind))

    def _wait(self, wait: dict[str, Any], current: dict[str, Any]) -> float:
        """One app session waiting on the migration: its episode (pid, statement start) keeps its longest wait."""
        ms = float(wait["wait_ms"] or 0)
        episode = self.episodes.setdefault((wait["pid"], str(wait["started"])), {
            "pid": wait["pid"], "statement": statement_line(wait["query"]), "wait_ms": 0.0, "step": current["step"],
            "blocker": wait["blocker_name"], "blocker_statement": statement_line(wait["blocker_query"])})
        episode["wait_ms"] = round(max(episode["wait_ms"], ms), 1)
        if ms > current["longest_wait_ms"]:
            current["longest_wait_ms"] = round(ms, 1)
            current["wait"] = {k: episode[k] for k in ("pid", "statement", "blocker", "blocker_statement")}
        return ms

    def _standby(self, s: StandbyLag) -> None:
        seen = self.standbys.setdefault(s.name, {"max_lag_s": 0.0, "max_behind_bytes": 0, "max_write_lag_s": 0.0,
                                                 "max_flush_lag_s": 0.0, "max_replay_lag_s": 0.0})
        for key, value in (("max_lag_s", s.lag_s), ("max_write_lag_s", s.write_lag_s),
                           ("max_flush_lag_s", s.flush_lag_s), ("max_replay_lag_s", s.replay_lag_s)):
            seen[key] = round(max(seen[key], value), 3)
        seen["max_behind_bytes"] = max(seen["max_behind_bytes"], s.behind_bytes)
        seen["last_lag_s"], seen["last_behind_bytes"] = round(s.lag_s, 3), s.behind_bytes

    def latency(self, added_ms: float) -> None:
        """A reading of how much slower than usual the app's statements ran (latency.py)."""
        self.latency_readings += 1
        self.latency_max_ms = max(self.latency_max_ms, round(added_ms, 1))
        if self.steps:
            self.steps[-1]["max_app_latency_ms"] = max(self.steps[-1].get("max_app_latency_ms", 0.0),
                                                       round(added_ms, 1))

    def went_on(self, standby: StandbyLag | None) -> None:
        """A guard point let the migration go on at this lag (the evidence that work started within the budget)."""
        current = self.steps[-1] if self.steps else None
        if current is None or standby is None:
            return
        current["max_lag_go_s"] = round(max(current["max_lag_go_s"] or 0.0, standby.lag_s), 3)
        current["max_behind_go_bytes"] = max(current["max_behind_go_bytes"] or 0, standby.behind_bytes)

    def paused(self, step: str, started: float, seconds: float, reason: str) -> None:
        self.pauses.append({"step": step, "started_s": round(started, 2), "seconds": round(seconds, 2),
                            "reason": reason})
        for record in self.steps:
            if record["step"] == step:
                record["pauses"] += 1
                record["paused_s"] = round(record["paused_s"] + seconds, 2)

    def cancelled(self, t: float, wait: dict[str, Any]) -> None:
        self.cancels.append({"at_s": round(t, 2), "step": self.steps[-1]["step"] if self.steps else "",
                             "app_pid": wait["pid"], "app_statement": statement_line(wait["query"]),
                             "waited_ms": round(float(wait["wait_ms"]), 1),
                             "migration_statement": statement_line(wait["blocker_query"])})

    def summary(self, *, seconds: float, queries: int, cpu_s: float, server_cpu_s: float | None,
                visible: bool, covered: bool, stopped: str | None) -> dict[str, Any]:
        """Everything the gate, the artifact, the ledger and `status` show, as plain JSON-able values."""
        if self.steps and self.last:
            self._close(self.steps[-1], self.last.t, self.last.lsn)
        longest = max(self.episodes.values(), key=lambda e: e["wait_ms"], default=None)
        wal = (self.last.lsn - self.first.lsn) if self.first and self.last else 0
        gap_limit = max(2.0, 10 * self.budgets.interval_s)
        whole = covered and visible and self.samples > 0 and self.longest_gap_s <= gap_limit
        return {
            "whole_phase": whole,
            "visible": visible,
            "budgets": self.budgets.as_dict(),
            "seconds": round(seconds, 2),
            "samples": self.samples,
            "sample_errors": self.errors,
            "longest_gap_s": round(self.longest_gap_s, 2),
            "longest_wait": longest,
            "waits_seen": len(self.episodes),
            "waits_over_budget": sum(e["wait_ms"] > self.budgets.lock_wait_ms for e in self.episodes.values()),
            "cancels": self.cancels,
            "standbys": self.standbys,
            "slots_retained_bytes": self.slots,
            "wal_bytes": wal,
            "wal_bytes_per_s": round(wal / seconds) if seconds > 0 else 0,
            "oldest_app_transaction": self.oldest,
            "active_sessions_max": self.active_max,
            "active_sessions_mean": round(self.active_sum / self.samples, 2) if self.samples else 0,
            "app_latency": {"budget_ms": self.budgets.app_latency_ms, "note": self.pacing_note,
                            "readings": self.latency_readings, "max_added_ms": self.latency_max_ms},
            "pauses": self.pauses,
            "paused_s": round(sum(p["seconds"] for p in self.pauses), 2),
            "stopped": stopped,
            "steps": [{k: v for k, v in s.items() if k != "start_lsn"} for s in self.steps],
            "cost": {"queries": queries, "queries_per_s": round(queries / seconds, 2) if seconds > 0 else 0,
                     "client_cpu_s": round(cpu_s, 3), "server_cpu_s": server_cpu_s,
                     "cpu_percent_of_a_core": round(100 * (cpu_s + (server_cpu_s or 0)) / seconds, 2)
                     if seconds > 0 else 0},
        }

    def downsampled(self) -> list[tuple[float, float, float, int]]:
        """The series with at most SERIES_POINTS points, each bucket keeping its worst values."""
        if len(self.series) <= SERIES_POINTS:
            return list(self.series)
        size = -(-len(self.series) // SERIES_POINTS)
        buckets = [self.series[i:i + size] for i in range(0, len(self.series), size)]
        return [(b[0][0], max(p[1] for p in b), max(p[2] for p in b), max(p[3] for p in b)) for b in buckets]
