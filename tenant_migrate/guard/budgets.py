"""What the guard allows the migration to cost the live app and its replicas, settable per run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tenant_migrate.errors import MigrationError

MB = 1024 * 1024


@dataclass(frozen=True)
class Budgets:
    """The defaults are what a DBA would sign off for a production run: an app statement kept waiting half a
    second by the migration is cancelled out of its way; a replica 10 s or 256 MB behind makes batched work
    wait; five times either (or 15 minutes of waiting) stops the phase, resumably; the app's statements running
    50 ms slower than their usual time, on average over the last second, make the next scan, batch or statement
    wait until they are back under half that (tenant_migrate/guard/latency.py)."""

    lock_wait_ms: int = 500  # an app session waits this long on the migration: the migration's statement is cancelled
    lag_s: float = 10.0  # a standby's replay this far behind: batched work pauses until under half
    lag_mb: float = 256.0  # ... or this much WAL behind
    ceiling: float = 5.0  # this many times any budget: the phase stops, resumably
    max_pause_s: float = 900.0  # paused this long in one go: the phase stops, resumably
    app_latency_ms: float = 50.0  # the app's statements this much slower than usual: the migration waits; 0: never
    interval_s: float = 0.2  # how often the guard reads the server's views

    def __post_init__(self) -> None:
        problems = [
            (self.lock_wait_ms >= 10, f"the app lock-wait budget must be at least 10 ms, not {self.lock_wait_ms}"),
            (self.lag_s > 0, f"the replica-lag budget must be above 0 s, not {self.lag_s}"),
            (self.lag_mb > 0, f"the replica-lag budget must be above 0 MB, not {self.lag_mb}"),
            (self.ceiling >= 1, f"the ceiling is a multiple of the budgets, at least 1, not {self.ceiling}"),
            (self.max_pause_s > 0, f"the longest pause must be above 0 s, not {self.max_pause_s}"),
            (self.app_latency_ms >= 0, f"the app-latency budget must be 0 (no pacing) or more ms, not "
                                       f"{self.app_latency_ms}"),
            (0.05 <= self.interval_s <= 5, f"the guard's interval must be 0.05 to 5 s, not {self.interval_s}"),
        ]
        for ok, message in problems:
            if not ok:
                raise MigrationError(f"{message}: give a positive value (see `tenant-migrate migrate --help`)")

    @property
    def lag_bytes(self) -> int:
        return int(self.lag_mb * MB)

    @property
    def lock_wait_ceiling_ms(self) -> float:
        return self.lock_wait_ms * self.ceiling

    def over(self, lag_s: float, behind_bytes: int, factor: float = 1.0) -> bool:
        """A standby at this lag is over `factor` times the replica-lag budget."""
        return lag_s > self.lag_s * factor or behind_bytes > self.lag_bytes * factor

    def describe(self) -> str:
        return (f"app lock wait {self.lock_wait_ms} ms (ceiling {self.lock_wait_ceiling_ms / 1000:g} s); replica lag "
                f"{self.lag_s:g} s or {self.lag_mb:g} MB (ceiling {self.lag_s * self.ceiling:g} s or "
                f"{self.lag_mb * self.ceiling:g} MB); "
                + (f"app statements {self.app_latency_ms:g} ms slower than usual (pacing); " if self.app_latency_ms
                   else "no pacing by the app's latency; ")
                + f"a pause lasts at most {self.max_pause_s:g} s")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
