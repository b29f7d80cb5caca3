"""How long a phase will take, what it locks and for how long at most: from the size of the tables now and the rates
measured on this server.

A measured run of a phase (its ledger row and its steps' times, tenant_migrate.step_progress) splits into a fixed
part, the steps that only change the catalog (each takes milliseconds whatever the size), and a sized part: the steps
that read or write the tables' rows (validations, concurrent index builds, batched writes, the row-count snapshot a
phase starts with). The forecast is the fixed part plus the sized part scaled from the size the run had to the size of
the tables now (sql/forecast/legacy_size.sql: heap and TOAST of the legacy tables, read from the catalog).

A step that reads rows has a cost that does not grow with them (a validation's or an index build's start, a wait for
older transactions): scaled in proportion from a small rehearsal, it would make a large run's forecast of a quick
phase ten times too long. So the sized part grows as `c + b * size`, a line through two runs of the phase measured at
sizes at least twice apart: of the same source when it has them, else of the reference machine, whose rates are
measured at two sizes. The run nearest in size sets the level, the line only the growth from its size.

The measured runs come, best first, from this database's own ledger (a rehearsal rolled back, an earlier attempt),
then from the rates other runs on this server published (`Rates`: the nightly dry run's copy, a benchmark; the flows
keep them in a Prefect Variable), then from any server's, then from the rates measured on the project's reference
machine (forecast_defaults.json). Of those of one source, the run nearest in size is used.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenant_migrate import ledger
from tenant_migrate.db import LEGACY_TABLES, cluster_id, scalar
from tenant_migrate.paths import read_sql
from tenant_migrate.plan import Phase, Step
from tenant_migrate.steps import Settings

DEFAULTS_FILE = Path(__file__).with_name("forecast_defaults.json")
REFERENCE = "the rates of the project's reference machine (2 cores, benchmarks/forecast.py)"
MAX_RATES_CHARS = 4800  # a Prefect Variable holds at most 5,000 characters
# a step reads or writes the tables' rows (else it only changes the catalog): a batched step, or one of these
SIZED = re.compile(r"VALIDATE\s+CONSTRAINT|\bCONCURRENTLY\b|\bUPDATE\s+public\.|\bcount\(", re.IGNORECASE)

# server -> "phase/direction/way" -> [size_bytes, fixed_s, sized_s, longest_s, day]
Rates = dict[str, dict[str, list[Any]]]
Growth = tuple[float, float]  # (c, b): the sized part takes c + b * size_bytes seconds


@dataclass(frozen=True)
class Measured:
    """One measured run of a phase: what it took, split into its fixed and sized parts, at the size it ran at."""

    phase: int
    direction: str
    way: str
    size_bytes: int
    fixed_s: float
    sized_s: float
    longest_s: float  # its longest step that reads the rows
    day: str

    @property
    def key(self) -> str:
        return f"{self.phase}/{self.direction}/{self.way}"

    def packed(self) -> list[Any]:
        return [self.size_bytes, round(self.fixed_s, 3), round(self.sized_s, 3), round(self.longest_s, 3), self.day]

    @classmethod
    def unpacked(cls, key: str, value: list[Any]) -> Measured:
        phase, direction, way = key.split("/")
        return cls(int(phase), direction, way, int(value[0]), float(value[1]), float(value[2]), float(value[3]),
                   str(value[4]))

    def scaled(self, size_bytes: int, growth: Growth | None = None) -> tuple[float, float]:
        """(seconds, longest step) at `size_bytes`: the sized part grown along `growth`, else in proportion."""
        if growth is not None and growth[0] + growth[1] * self.size_bytes > 0:
            factor = (growth[0] + growth[1] * size_bytes) / (growth[0] + growth[1] * self.size_bytes)
        else:
            factor = size_bytes / self.size_bytes if self.size_bytes > 0 else 1.0
        return self.fixed_s + self.sized_s * factor, self.longest_s * factor


def growth(runs: list[Measured]) -> Growth | None:
    """The line through the sized parts of the smallest and the largest run, when they are at least twice apart in
    size (neither part below zero: a sized part does not shrink as the tables grow)."""
    by_size = sorted(runs, key=lambda m: m.size_bytes)
    if len(by_size) < 2 or by_size[-1].size_bytes < 2 * max(by_size[0].size_bytes, 1):
        return None
    small, large = by_size[0], by_size[-1]
    slope = max(0.0, (large.sized_s - small.sized_s) / (large.size_bytes - small.size_bytes))
    return max(0.0, small.sized_s - slope * small.size_bytes), slope


@dataclass(frozen=True)
class Forecast:
    phase: int
    direction: str
    seconds: float
    longest_s: float
    basis: str  # where the rates come from, one phrase
    locks: list[str]

    def line(self) -> str:
        return f"about {duration(self.seconds)} ({self.basis})"


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def sized(step: Step) -> bool:
    """Does the step read or write the tables' rows (so that its time grows with their size)?"""
    body = "\n".join(line for line in step.sql.splitlines() if not line.lstrip().startswith("--"))
    return step.mode == "batched" or bool(SIZED.search(body))


def legacy_size(conn: psycopg.Connection) -> int:
    return int(scalar(conn, read_sql("forecast/legacy_size.sql"), {"tables": list(LEGACY_TABLES)}))


def measured(conn: psycopg.Connection, phases: dict[int, Phase]) -> list[Measured]:
    """The measured runs of this database's ledger (of the phases given), oldest first."""
    if not ledger.exists(conn):
        return []
    rows = conn.cursor(row_factory=dict_row).execute(read_sql("forecast/observations.sql")).fetchall()
    runs: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        runs.setdefault(row["run_id"], []).append(row)
    found = []
    for steps in runs.values():
        first = steps[0]
        target = phases.get(first["phase"])
        if target is None:
            continue
        kinds = {s.name: sized(s) for s in target.steps(first["direction"])}
        # the first step's time holds the run's start: the row-count snapshot, which reads every table
        fixed = sum(s["step_seconds"] for s in steps[1:] if not kinds.get(s["step"], True))
        longest = max((s["step_seconds"] for i, s in enumerate(steps) if i == 0 or kinds.get(s["step"], True)),
                      default=0.0)
        found.append(Measured(first["phase"], first["direction"], first["way"], int(first["size_bytes"]), fixed,
                              max(0.0, first["seconds"] - fixed), longest, first["finished_at"].date().isoformat()))
    return found


def _nearest(candidates: list[Measured], size_bytes: int) -> Measured | None:
    """The run nearest in size (by ratio), the newest of equals."""
    return min(reversed(candidates), default=None,
               key=lambda m: abs(math.log(max(size_bytes, 1) / max(m.size_bytes, 1))))


def _locks(target: Phase, direction: str, way: str, longest_s: float, lock_timeout_ms: int) -> list[str]:
    """What the phase locks, and for how long at most."""
    found = {lock for step in target.steps(direction, way) for lock in step.locks}
    lines = []
    if any(lock.startswith("ACCESS EXCLUSIVE") for lock in found):
        lines.append(f"ACCESS EXCLUSIVE, only for catalog changes (no scan under it): each statement waits at most "
                     f"{lock_timeout_ms} ms for it (lock_timeout; the app's statements on that table queue behind "
                     "it meanwhile) and holds it for milliseconds")
    if any(lock.startswith("SHARE UPDATE EXCLUSIVE") for lock in found):
        lines.append(f"SHARE UPDATE EXCLUSIVE while it validates or builds an index, one table at a time, for about "
                     f"{duration(longest_s)} at most (its longest step): reads and writes go on")
    if any("row locks" in lock for lock in found):
        lines.append("row locks of one batch at a time, released at each commit")
    if any(s.mode in ("generated", "undo") for s in target.steps(direction, way)):
        lines.append("statements decided from the catalog at run time: each takes one of the locks above")
    return lines or ["no lock on the app's tables"]


def forecast(conn: psycopg.Connection, target: Phase, direction: str, way: str, rates: Rates | None = None,
             lock_timeout_ms: int = Settings.lock_timeout_ms, size_bytes: int | None = None) -> Forecast | None:
    """The forecast of `target` in `direction` the `way` given, on this database now; None when no run of it was
    ever measured (not even on the reference machine)."""
    size = legacy_size(conn) if size_bytes is None else size_bytes
    same_steps = [s.name for s in target.steps(direction, "instant")] == \
        [s.name for s in target.steps(direction, "batched")]
    ways = {way, "instant", "batched"} if same_steps else {way}
    server = cluster_id(conn)
    own = [m for m in measured(conn, {target.number: target}) if m.direction == direction and m.way in ways]
    published = rates or {}
    sources = [(own, "measured on this database")]
    sources.append((_published(published.get(server, {}), target.number, direction, ways), "measured on this server"))
    others = [m for name, entries in published.items() if name != server
              for m in _published(entries, target.number, direction, ways)]
    sources.append((others, "measured on another server"))
    reference = [m for entries in _defaults().values() for m in _published(entries, target.number, direction, ways)]
    sources.append((reference, REFERENCE))
    for candidates, where in sources:
        chosen = _nearest(candidates, size)
        if chosen is not None:
            seconds, longest = chosen.scaled(size, growth(candidates) or growth(reference))
            basis = f"{where} on {chosen.day} at {_mb(chosen.size_bytes)}, scaled to {_mb(size)} now"
            return Forecast(target.number, direction, seconds, longest, basis,
                            _locks(target, direction, way, longest, lock_timeout_ms))
    return None


def _mb(size_bytes: int) -> str:
    return f"{size_bytes / 1048576:,.0f} MB" if size_bytes >= 1048576 else f"{size_bytes / 1024:,.0f} kB"


def _published(entries: dict[str, list[Any]], phase: int, direction: str, ways: set[str]) -> list[Measured]:
    found = []
    for key, value in entries.items():
        try:
            m = Measured.unpacked(key, value)
        except (ValueError, IndexError, TypeError):  # a hand-edited or older entry: not a rate
            continue
        if m.phase == phase and m.direction == direction and m.way in ways:
            found.append(m)
    return found


def _defaults() -> Rates:
    """The reference machine's rates, by the rehearsal they come from ("scale 1", "scale 10")."""
    return json.loads(DEFAULTS_FILE.read_text(encoding="utf-8")) if DEFAULTS_FILE.exists() else {}


def published(conn: psycopg.Connection, phases: dict[int, Phase], rates: Rates | None) -> Rates:
    """`rates` with this ledger's newest measured run of each phase, direction and way as this server's; the
    servers measured longest ago are dropped to stay within MAX_RATES_CHARS."""
    merged: Rates = {name: dict(entries) for name, entries in (rates or {}).items()}
    mine = merged.setdefault(cluster_id(conn), {})
    for m in measured(conn, phases):
        mine[m.key] = m.packed()
    order = sorted(merged, key=lambda name: max((str(v[-1]) for v in merged[name].values()
                                                 if isinstance(v, list) and v), default=""))
    while len(json.dumps(merged)) > MAX_RATES_CHARS and len(order) > 1:
        del merged[order.pop(0)]
    return merged


def record_start(lock_conn: psycopg.Connection, run_id: int, size_bytes: int, made: Forecast | None) -> None:
    """The size the run starts at, and its forecast, in its ledger row (phase_runs.size_bytes, forecast_s and
    forecast_basis): forecast beside actual."""
    fields: dict[str, Any] = {"size_bytes": size_bytes}
    if made is not None:
        fields |= {"forecast_s": round(made.seconds, 3), "forecast_basis": made.basis}
    ledger.update_run(lock_conn, run_id, **fields)


def of_phases(conn: psycopg.Connection, phases: list[Phase], direction: str, way: str) -> dict[int, Forecast | None]:
    """The forecast of each phase on this database now (rates of its own ledger, else the reference machine's)."""
    size = legacy_size(conn)
    return {p.number: forecast(conn, p, direction, way, size_bytes=size) for p in phases}
