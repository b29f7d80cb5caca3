"""Row-level security overhead on the tenant-scoped indexed queries (phase 8), at a realistic size.

    .venv/bin/python benchmarks/rls_overhead.py [--scale 10] [--runs 2000] [--server DSN] [--keep]
    .venv/bin/python benchmarks/rls_overhead.py --dsn DSN [--runs 2000]

Loads the legacy demo at --scale into a scratch database (default: the embedded server), migrates it
through every phase, then runs each query of the phase-8 checklist (sql/acceptance/query_*.sql) plus a
primary-key lookup --runs times in two ways, on one connection, alternating blocks of 100:
- "owner": the migration role, which row-level security does not restrict (explicit WHERE user_id);
- "tenant_app": the application role with app.tenant_id set per transaction, as the backend contract
  does (the policy adds its own user_id condition to the same WHERE).
Prints median and p95 latency and queries/s per query and the overhead in percent; then what naming the tenant
costs: `SELECT public.app_set_tenant(1)` as tenant_app, first in each of --runs transactions.
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial

import psycopg

from tenant_migrate import demo, embedded, runner
from tenant_migrate.acceptance.checks import acting_as
from tenant_migrate.acceptance.performance import PERFORMANCE_QUERIES, percentile, timed
from tenant_migrate.db import connection
from tenant_migrate.dsn import describe, with_database
from tenant_migrate.paths import read_sql

DATABASE = "tm_bench_rls"
BLOCK = 100
QUERIES = {**{name: read_sql(f"acceptance/{file}.sql") for name, file in PERFORMANCE_QUERIES.items()},
           "contact by primary key": "SELECT id, thread_id FROM public.contacts WHERE id = %(contact_id)s"}


def fetch_all(conn: psycopg.Connection, query: str, params: dict) -> list:
    return conn.execute(query, params).fetchall()


def measure(conn: psycopg.Connection, role: str | None, query: str, params: list[dict]) -> list[float]:
    """Latency of one block of queries, each in its own transaction as the backend runs them."""
    ms = []
    for p in params:
        with conn.transaction(), acting_as(conn, role, 1):
            ms.append(timed(partial(fetch_all, conn, query, p)))
    return ms


def naming(conn: psycopg.Connection, runs: int) -> list[float]:
    """Latency of the app's one statement per transaction, naming its tenant, as tenant_app."""
    ms = []
    for _ in range(runs):
        with conn.transaction(), acting_as(conn, "tenant_app"):
            ms.append(timed(partial(fetch_all, conn, "SELECT public.app_set_tenant(1)", {})))
    return ms


def scratch_database(server: str, scale: float, keep: bool) -> str:
    """The scratch database: loaded at `scale` and migrated through every phase (with `keep`: the one kept by an
    earlier run, if there is one)."""
    dsn = with_database(server, DATABASE)
    with connection(server) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
    if not (exists and keep):
        demo.drop_database(server, DATABASE)
        started = time.monotonic()
        demo.load(demo.create_database(server, DATABASE), scale)
        runner.migrate(dsn)
        print(f"loaded scale {scale} and migrated {describe(dsn)} in {time.monotonic() - started:.0f} s")
    return dsn


def compare(dsn: str, runs: int) -> None:
    """Each query `runs` times as the owner and as tenant_app, alternating blocks; one line each."""
    with connection(dsn) as conn:
        conn.execute("VACUUM ANALYZE")
        samples = conn.execute(read_sql("acceptance/query_samples.sql"), {"user_id": 1, "n": BLOCK}).fetchall()
        params = [{"user_id": 1, "contact_id": c, "phone_number": p, "status": s} for c, p, s in samples]
        print(f"{'query (latency in ms)':<32}{'owner p50':>10}{'RLS p50':>10}{'owner p95':>10}{'RLS p95':>10}"
              f"{'owner q/s':>11}{'RLS q/s':>10}{'overhead':>10}")
        for name, query in QUERIES.items():
            timings: dict[str | None, list[float]] = {None: [], "tenant_app": []}
            for _ in range(max(1, runs // BLOCK)):
                for role in timings:
                    timings[role] += measure(conn, role, query, params)
            owner, rls = timings[None], timings["tenant_app"]
            qps = [len(t) / (sum(t) / 1000) for t in (owner, rls)]
            print(f"{name:<32}{statistics.median(owner):>10.3f}{statistics.median(rls):>10.3f}"
                  f"{percentile(owner, 95):>10.3f}{percentile(rls, 95):>10.3f}"
                  f"{qps[0]:>11,.0f}{qps[1]:>10,.0f}{(qps[0] / qps[1] - 1) * 100:>9.1f}%")
        named = naming(conn, runs)
        print(f"{'naming the tenant':<32}{'':>10}{statistics.median(named):>10.3f}{'':>10}"
              f"{percentile(named, 95):>10.3f}{'':>11}{len(named) / (sum(named) / 1000):>10,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--server", help="DSN of a server to create the scratch database on")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database (and reuse it next time)")
    parser.add_argument("--dsn", help="measure this database, migrated through phase 8 (not dropped), instead")
    args = parser.parse_args()
    if args.dsn:
        compare(args.dsn, args.runs)
        return
    server = args.server or embedded.start()
    dsn = scratch_database(server, args.scale, args.keep)
    try:
        compare(dsn, args.runs)
    finally:
        if not args.keep:
            demo.drop_database(server, DATABASE)


if __name__ == "__main__":
    main()
