"""The PNG of one phase: app lock waits on the migration and replica lag over the phase's time, its steps marked,
the budgets drawn, the pauses shaded. Made at run time, so matplotlib is a runtime dependency. Drawn on a plain
Figure with fixed margins: pyplot's import and tight_layout cost about half a second per phase (docs/speed.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def plot(figures: dict[str, Any], series: list[tuple[float, float, float, int]], title: str, path: Path) -> Path:
    """Write the plot to `path` (its folder is created) and return it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - imported when a phase ends
    from matplotlib.figure import Figure  # noqa: PLC0415

    budgets = figures["budgets"]
    times = [p[0] for p in series]
    fig = Figure(figsize=(11, 5.5))
    FigureCanvasAgg(fig)
    waits, lag = fig.subplots(2, 1, sharex=True)
    waits.plot(times, [p[1] for p in series], color="#1f4e79", lw=1, drawstyle="steps-post")
    waits.axhline(budgets["lock_wait_ms"], color="#c0504d", ls="--", lw=0.8, label="lock-wait budget")
    waits.set_ylabel("longest app wait\non the migration (ms)")
    waits.legend(loc="upper right", fontsize=8)
    lag.plot(times, [p[2] for p in series], color="#2e7d32", lw=1, label="worst standby lag (s)")
    lag.axhline(budgets["lag_s"], color="#c0504d", ls="--", lw=0.8, label="lag budget")
    lag.set_ylabel("replica lag (s)")
    behind = lag.twinx()
    behind.plot(times, [p[3] / 1048576 for p in series], color="#9e9e9e", lw=0.8, label="behind (MB)")
    behind.set_ylabel("behind (MB)", color="#757575")
    lag.legend(loc="upper left", fontsize=8)
    for ax in (waits, lag):
        for pause in figures["pauses"]:
            ax.axvspan(pause["started_s"], pause["started_s"] + pause["seconds"], color="#fde9d0", lw=0)
        ax.vlines([step["started_s"] for step in figures["steps"]], 0, 1, transform=ax.get_xaxis_transform(),
                  colors="#bdbdbd", lw=0.5)
    for i, step in enumerate(figures["steps"]):
        if step["seconds"] >= 0.02 * max(times[-1] if times else 1, 1) or i == 0:
            waits.text(step["started_s"], 1.01, step["step"].rsplit("/", 1)[-1], transform=waits.get_xaxis_transform(),
                       fontsize=6, rotation=30, ha="left", va="bottom")
    lag.set_xlabel("seconds since the guard started (shaded: paused for replica lag)")
    fig.suptitle(title, fontsize=10)
    fig.subplots_adjust(left=0.09, right=0.92, top=0.84, bottom=0.1, hspace=0.12)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    return path
