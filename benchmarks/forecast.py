"""Benchmark: how close the duration forecast at every gate comes to what the phases then take.

A rehearsal first: the `migrate` flow (auto approval, backups off, Data Docs off) applies every phase to a copy of
a demo database loaded at --calibrate-scale (default: --scale) and the `rollback` flow takes it back to the legacy
schema; both publish their measured rates (flows/forecast.py, a Prefect Variable of this run's Prefect API), as the
nightly dry run does. Then the same two flows on a fresh copy at --scale: each phase run records the forecast it
started with beside its time (tenant_migrate.phase_runs.forecast_s, duration_s), printed here with the error. The
target (issue 26): every phase that takes over 5 s within 25% of its forecast.

    .venv/bin/python benchmarks/forecast.py --scale 10
    .venv/bin/python benchmarks/forecast.py --scale 10 --calibrate-scale 1   # rates measured at another size
    .venv/bin/python benchmarks/forecast.py --scale 1 --write-defaults        # the reference machine's rates,
    .venv/bin/python benchmarks/forecast.py --scale 10 --write-defaults       # at three sizes (the curve of
    .venv/bin/python benchmarks/forecast.py --scale 100 --write-defaults      # each phase's growth)
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from tenant_migrate import demo, embedded, forecast
from tenant_migrate.db import connection
from tenant_migrate.paths import PROJECT_ROOT

TARGET_ERROR = 0.25
TARGET_FROM_S = 5.0


def loaded(server: str, name: str, scale: float) -> str:
    dsn = demo.create_database(server, name)
    demo.load(dsn, scale)
    return dsn


def rehearse(dsn: str, backfill: str, to: int | None) -> None:
    """The phases up to `to` (None: every phase) applied, then rolled back, by the flows (which publish their
    rates)."""
    from tenant_migrate.flows.migrate import migrate
    from tenant_migrate.flows.rollback import rollback

    for flow, params in ((migrate, {"backfill": backfill, "data_docs": False, "to": to}), (rollback, {"to": 0})):
        state = flow(database=dsn, approval="auto", backups=False, return_state=True, **params)
        if not state.is_completed():
            raise SystemExit(f"{flow.name} ended {state.type.value}: {state.message}")


def write_defaults(scale: float, rates: dict[str, Any]) -> None:
    """The rehearsal's rates as the reference machine's at this scale, beside those of the other scales written
    before (the forecast draws the growth of a phase with size through two of them)."""
    (entries,) = rates.values()  # one server: this one
    defaults = json.loads(forecast.DEFAULTS_FILE.read_text()) if forecast.DEFAULTS_FILE.exists() else {}
    defaults[f"scale {scale:g}"] = entries
    forecast.DEFAULTS_FILE.write_text(json.dumps(defaults, indent=1, sort_keys=True) + "\n")


def compared(dsn: str) -> list[dict[str, Any]]:
    with connection(dsn) as conn:
        rows = conn.execute("SELECT phase, direction, duration_s, forecast_s, forecast_basis FROM "
                            "tenant_migrate.phase_runs ORDER BY id").fetchall()
    result = []
    for phase, direction, took, expected, basis in rows:
        took, expected = float(took), float(expected) if expected is not None else None
        error = (took - expected) / expected if expected else None
        result.append({"phase": phase, "direction": direction, "seconds": took, "forecast_s": expected,
                       "error": error, "basis": basis,
                       "in_target": took <= TARGET_FROM_S or (error is not None and abs(error) <= TARGET_ERROR)})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0, help="demo scale of the measured run (1 = 100k messages)")
    parser.add_argument("--calibrate-scale", type=float, help="demo scale of the rehearsal (default: --scale)")
    parser.add_argument("--backfill", default="instant", choices=("instant", "batched"))
    parser.add_argument("--to", type=int, help="the last phase to apply (default: every phase; the smoke test: 2)")
    parser.add_argument("--write-defaults", action="store_true",
                        help=f"write the rehearsal's rates to {forecast.DEFAULTS_FILE.relative_to(PROJECT_ROOT)} "
                             "(beside those of other scales)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results")
    parser.add_argument("--server", help="DSN of a server to create the scratch databases on (default: embedded)")
    args = parser.parse_args()
    if args.write_defaults and args.to is not None:
        parser.error("--write-defaults needs the rates of every phase: leave out --to")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.variables import Variable

    from tenant_migrate.flows.forecast import RATES_VARIABLE

    Variable.set(RATES_VARIABLE, {}, overwrite=True)  # this run's API: only the rehearsal's rates
    server, stamp = args.server or embedded.start(), int(time.time())
    calibrate_scale = args.calibrate_scale or args.scale
    names = [f"bench_forecast_{stamp}_rehearsal", f"bench_forecast_{stamp}_measured"]
    try:
        rehearse(loaded(server, names[0], calibrate_scale), args.backfill, args.to)
        rates: dict[str, Any] = Variable.get(RATES_VARIABLE, default={})
        if args.write_defaults:
            write_defaults(calibrate_scale, rates)
        measured = loaded(server, names[1], args.scale)
        demo.drop_database(server, names[0])  # the rehearsal's database is not needed any more: its I/O gone too
        rehearse(measured, args.backfill, args.to)
        rows = compared(measured)
    finally:
        for name in names:
            demo.drop_database(server, name)
    print(f"forecast vs actual, scale {args.scale:g} ({args.backfill}), rates of a rehearsal at scale "
          f"{calibrate_scale:g}; load average {os.getloadavg()[0]:.1f}")
    for r in rows:
        error = f"{100 * r['error']:+5.0f}%" if r["error"] is not None else "    -"
        print(f"  phase {r['phase']} {r['direction']:<4} {r['seconds']:8.2f} s  forecast "
              f"{r['forecast_s'] if r['forecast_s'] is not None else '-':>8} s  {error}  "
              f"{'' if r['in_target'] else 'MISSED'}")
    over = [r for r in rows if r["seconds"] > TARGET_FROM_S]
    print(f"phases over {TARGET_FROM_S:g} s: {len(over)}, within {TARGET_ERROR:.0%}: "
          f"{sum(r['in_target'] for r in over)}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "forecast.json").write_text(json.dumps(
        {"scale": args.scale, "calibrate_scale": calibrate_scale, "backfill": args.backfill, "runs": rows,
         "load_average": os.getloadavg()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
