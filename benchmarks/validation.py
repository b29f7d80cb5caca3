"""Validation time per phase: the phase's GX suite (tenant_migrate.validation) beside the same checks as raw SQL.

    .venv/bin/python benchmarks/validation.py [--scale 10] [--repeat 3] [--server DSN] [--keep]

Loads the legacy demo at --scale into a scratch database (on --server, default the embedded
server), then for each phase: applies it with the runner, runs its suite through Great Expectations
(validate_phase, no Data Docs) and the same checks as plain SQL over one psycopg connection, each
--repeat times (median). Prints one row per phase; the GX import (once per process) is shown apart.
Target: GX within 2x of raw SQL.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from psycopg import sql

from tenant_migrate import demo, embedded
from tenant_migrate.db import connection, scalar
from tenant_migrate.dsn import describe
from tenant_migrate.plan import default_target
from tenant_migrate.runner import migrate
from tenant_migrate.validation.checkpoints import DEFAULT_ADMIN_EMAIL, params_query, validate_phase
from tenant_migrate.validation.suites import gx_module, phase_names, read_suite_file

DATABASE = "tm_bench_validation"
T = TypeVar("T")


def raw_checks(dsn: str, number: int) -> tuple[bool, int]:
    """The suite's checks as plain SQL, each query run once; (all passed, number of checks)."""
    from great_expectations.expectations.metrics.query_metric_provider import (  # noqa: PLC0415
        _query_has_join_clause,  # private: GX's own rule for how {batch} is substituted
    )

    data = read_suite_file(phase_names()[number])
    params = f"({params_query(number, DEFAULT_ADMIN_EMAIL)})"
    ok = True
    with connection(dsn) as conn:
        existing = {r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
        for exp in data["expectations"]:
            table: str | None = (exp.get("meta") or {}).get("table")
            kwargs, kind = exp["kwargs"], exp["type"]
            if table is not None and table not in existing:
                ok = False
                continue
            if kind == "expect_query_to_return_no_rows":
                query = kwargs["unexpected_rows_query"]
                # as GX does: a table as public.<name>; the parameters query bare in a query with a
                # JOIN (the suite aliases it there), else aliased AS subselect
                batch = f"public.{table}" if table else params if _query_has_join_clause(query) \
                    else f"{params} AS subselect"
                query = query.format(batch=batch)
                rows = conn.execute(query).fetchmany(200)
                ok &= not rows
            elif kind == "expect_column_values_to_not_be_null" and table:
                nulls = scalar(conn, sql.SQL("SELECT count(*) FROM public.{} WHERE {} IS NULL").format(
                    sql.Identifier(table), sql.Identifier(kwargs["column"])))
                ok &= nulls == 0
            elif kind == "expect_table_columns_to_match_set" and table:
                cols = {r[0] for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
                    "AND table_name = %s", (table,))}
                wanted = set(kwargs["column_set"])
                ok &= wanted <= cols and (not kwargs.get("exact_match", True) or wanted == cols)
            else:
                raise SystemExit(f"no raw SQL form for {kind}: add one to benchmarks/validation.py")
    return ok, len(data["expectations"])


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, float, T]:
    """(median seconds, first run's seconds, last value)."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times[0], value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0, help="demo scale (10 = 1M messages)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--server", help="DSN of a server to create the scratch database on (default: embedded)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    server = args.server or embedded.start()
    dsn, loaded = demo.fresh(server, DATABASE, args.scale)
    print(f"database {describe(dsn)}, scale {args.scale}: {loaded['row_counts']} "
          f"(loaded in {loaded['seconds']} s)")
    started = time.perf_counter()
    gx_module()
    print(f"import great_expectations: {time.perf_counter() - started:.2f} s (once per process, not counted below)")

    rows = []
    try:
        for number, name in sorted(p for p in phase_names().items() if p[0] <= default_target()):
            started = time.perf_counter()
            migrate(dsn, to=number)
            applied = time.perf_counter() - started
            raw_s, _, (raw_ok, checks) = timed(partial(raw_checks, dsn, number), args.repeat)
            gx_s, gx_first, result = timed(partial(validate_phase, dsn, number, docs=False), args.repeat)
            rows.append((number, name, checks, applied, raw_s, gx_s, raw_ok, result["success"], gx_first))
            print(f"  phase {number} applied in {applied:.1f} s; GX {gx_s:.2f} s (first {gx_first:.2f} s), "
                  f"raw SQL {raw_s:.2f} s", flush=True)
    finally:
        if not args.keep:
            demo.drop_database(server, DATABASE)

    print(f"\nscale {args.scale}, median of {args.repeat}; GX = validate_phase(docs=False) after import. "
          "GX 1st = the phase's first validation in the process (builds its GX suites and checkpoints; "
          "what the migrate flow pays), later ones reuse them")
    print(f"{'phase':<30} {'checks':>6} {'apply s':>8} {'raw SQL s':>10} {'GX s':>8} {'GX/raw':>7} "
          f"{'GX 1st s':>9} {'1st/raw':>8}  passed(raw/GX)")
    for number, name, checks, applied, raw_s, gx_s, raw_ok, gx_ok, gx_first in rows:
        print(f"{number} {name:<28} {checks:>6} {applied:>8.1f} {raw_s:>10.3f} {gx_s:>8.3f} "
              f"{gx_s / raw_s:>6.1f}x {gx_first:>9.3f} {gx_first / raw_s:>7.1f}x  {raw_ok}/{gx_ok}")
    total_raw, total_gx, total_first = (sum(r[4] for r in rows), sum(r[5] for r in rows), sum(r[8] for r in rows))
    print(f"{'all phases':<30} {'':>6} {'':>8} {total_raw:>10.3f} {total_gx:>8.3f} {total_gx / total_raw:>6.1f}x "
          f"{total_first:>9.3f} {total_first / total_raw:>7.1f}x")


if __name__ == "__main__":
    main()
