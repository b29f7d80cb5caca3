"""Benchmark: where the `migrate` flow's time goes, outside and inside the phases' own SQL.

One run of the migrate flow (auto approval, backups off, Data Docs off unless --docs) on a fresh demo database,
under the legacy writer (benchmarks/legacy_writer.py, 100 calls/s), with pg_stat_statements installed so that the
app-statement check has the app's statements to check. The Prefect API is started and Great Expectations imported
before the run, as in a running worker (their one-time cost per process is printed apart).

Each part of the flow is timed by wrapping its function for this run only (the main thread's calls; a part's own
time excludes the parts it calls): Prefect's own work per flow run (a phase is a subflow) and per task run, each
task's body by name, and inside them the whole-plan check, preflight, the phase itself (from the ledger's start to
its finish), the Great Expectations suite and its context, row counts, artifacts, the guard's start, stop and plot,
the gates. The parts add up to the flow's wall time.

    .venv/bin/python benchmarks/flow_cost.py --scale 1 --to 8
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import legacy_writer  # benchmarks/legacy_writer.py, beside this script

from tenant_migrate import demo, embedded
from tenant_migrate.db import connection, scalar, scratch_database
from tenant_migrate.paths import PROJECT_ROOT


class Clock:
    """Own time per part: a wrapped call's time minus that of the wrapped calls inside it (main thread only)."""

    def __init__(self) -> None:
        self.each: dict[str, list[float]] = defaultdict(list)  # each call's own seconds, in order
        self._inner: list[float] = []

    def wrap(self, fn: Callable[..., Any], label: str | Callable[..., str]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is not threading.main_thread():
                return fn(*args, **kwargs)
            started = time.perf_counter()
            self._inner.append(0.0)
            try:
                return fn(*args, **kwargs)
            finally:
                spent, inner = time.perf_counter() - started, self._inner.pop()
                name = label(*args, **kwargs) if callable(label) else label
                self.each[name].append(spent - inner)
                if self._inner:
                    self._inner[-1] += spent

        return timed


def replace_everywhere(fn: Any, timed: Any) -> None:
    """Put `timed` wherever a loaded module holds `fn` by name (`from x import fn` copies the reference)."""
    for module in list(sys.modules.values()):
        for name, value in list(getattr(module, "__dict__", {}).items()):
            if value is fn:
                setattr(module, name, timed)


def instrument(clock: Clock) -> None:
    """Wrap the flow's parts (imports the flow first, so that every module holding them is loaded)."""
    from prefect import flow_engine, task_engine
    from prefect.artifacts import Artifact, update_progress_artifact
    from prefect.flows import Flow
    from prefect.tasks import Task

    import tenant_migrate.flows.migrate  # noqa: F401 - loads every module the flow uses
    from tenant_migrate import db, ledger, runner
    from tenant_migrate.check import review
    from tenant_migrate.flows import monitor
    from tenant_migrate.guard import plot, sampler, store
    from tenant_migrate.validation import checkpoints

    Flow.__call__ = clock.wrap(Flow.__call__, "Prefect: per flow run (create, states, heartbeat)")  # type: ignore[method-assign]
    Task.__call__ = clock.wrap(Task.__call__, "Prefect: per task run (create, states)")  # type: ignore[method-assign]
    engines = (flow_engine.FlowRunEngine, "call_flow_fn", lambda e, *a, **k: f"flow body: {e.flow.name}"), \
        (task_engine.SyncTaskRunEngine, "call_task_fn", lambda e, *a, **k: f"task body: {e.task.name}")
    for cls, attr, label in engines:
        setattr(cls, attr, clock.wrap(getattr(cls, attr), label))
    Artifact.create = clock.wrap(Artifact.create, "artifacts")  # type: ignore[method-assign]
    sampler.Guard.start = clock.wrap(sampler.Guard.start, "guard: start")  # type: ignore[method-assign]
    sampler.Guard.stop = clock.wrap(sampler.Guard.stop, "guard: stop")  # type: ignore[method-assign]
    parts: list[tuple[Any, str]] = [
        (update_progress_artifact, "artifacts"),
        (runner.run_phase, "phases themselves (ledger start to finish, but the row counts)"),
        (review.review, "whole-plan check (catalog review)"),
        (runner.preflight, "preflight (catalog/preflight.sql)"),
        (runner.check_drift, "preflight (drift)"),
        (checkpoints.validate_phase, "validation (Great Expectations)"),
        (checkpoints._Target.__init__, "validation: GX context and datasource"),  # noqa: SLF001
        (db.table_stats, "row counts (after a phase; before the first, in its ledger time)"),
        (ledger.ensure, "ledger: schema ensure"),
        (store.record, "guard: figures to the ledger"),
        (plot.plot, "guard: plot (matplotlib)"),
        (monitor.Watch.__init__, "guard: start"),
    ]
    for fn, part in parts:
        timed = clock.wrap(fn, part)
        replace_everywhere(fn, timed)
        owner = getattr(fn, "__qualname__", "").split(".")
        if len(owner) == 2:  # a method: on its class too
            setattr(sys.modules[fn.__module__].__dict__[owner[0]], owner[1], timed)


def run(scale: float, to: int, docs: bool, rate: float, server: str | None) -> dict[str, Any]:
    from prefect.client.orchestration import get_client

    from tenant_migrate.validation.suites import gx_module

    started = time.perf_counter()
    with get_client(sync_client=True) as client:
        client.hello()
    api_s = time.perf_counter() - started
    started = time.perf_counter()
    gx_module()
    gx_s = time.perf_counter() - started
    clock = Clock()
    instrument(clock)
    from tenant_migrate.flows.migrate import migrate

    server = server or embedded.start()
    name = f"bench_flow_cost_{int(time.time())}"
    with scratch_database(server, name) as dsn:
        demo.load(dsn, scale)
        with connection(dsn) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        writer = legacy_writer.start(dsn, rate) if rate > 0 else None
        time.sleep(2)
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        try:
            state = migrate(database=dsn, to=to, approval="auto", backups=False, data_docs=docs, return_state=True)
        finally:
            wall = time.perf_counter() - started
            if writer:
                legacy_writer.finish(writer)
        if not state.is_completed():
            raise SystemExit(f"migrate ended {state.type.value}: {state.message}")
        with connection(dsn) as conn:
            ledger_s = float(scalar(conn, "SELECT sum(duration_s) FROM tenant_migrate.phase_runs"))
    parts = dict(sorted(((k, sum(v)) for k, v in clock.each.items()), key=lambda kv: -kv[1]))
    return {"scale": scale, "to": to, "data_docs": docs, "wall_s": round(wall, 2), "ledger_phases_s": ledger_s,
            "outside_phases_s": round(wall - ledger_s, 2), "load_average": [load_before, os.getloadavg()[0]],
            "process_once": {"prefect_api_start_s": round(api_s, 2), "gx_import_s": round(gx_s, 2)},
            "parts": {k: {"seconds": round(v, 3), "calls": len(clock.each[k]),
                          "each_s": [round(e, 3) for e in clock.each[k]]} for k, v in parts.items()},
            "unattributed_s": round(wall - sum(parts.values()), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="demo scale (1 = 100k messages)")
    parser.add_argument("--to", type=int, default=8, help="the last phase to apply")
    parser.add_argument("--docs", action="store_true", help="build the Data Docs too")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="legacy writer calls per second (0: none; phase 8's acceptance checklist compares counts "
                             "read apart, which a live writer can make differ)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results")
    parser.add_argument("--server", help="DSN of a server to create the scratch database on (default: embedded)")
    args = parser.parse_args()
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    result = run(args.scale, args.to, args.docs, args.rate, args.server)
    print(f"migrate to phase {args.to}, scale {args.scale:g}: {result['wall_s']} s wall, phases "
          f"{result['ledger_phases_s']:.2f} s (ledger), outside the phases {result['outside_phases_s']} s; load "
          f"average {result['load_average'][0]:.1f} -> {result['load_average'][1]:.1f}")
    for part, figures in result["parts"].items():
        print(f"  {figures['seconds']:8.2f} s  {figures['calls']:>4}x  {part}")
        if 1 < figures["calls"] <= 10 and figures["seconds"] >= 1:  # where a repeated part's seconds go, in order
            print(f"{'':19}each: {', '.join(f'{e:.2f}' for e in figures['each_s'])}")
    print(f"  {result['unattributed_s']:8.2f} s        unattributed")
    print(f"once per process, before the run: Prefect API {result['process_once']['prefect_api_start_s']} s, "
          f"Great Expectations import {result['process_once']['gx_import_s']} s")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "flow_cost.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
