"""Benchmark: phases 1-7 by the runner on a demo database, with a legacy writer running throughout.

Prints the time of each phase and the writer's latency (p50 / p99 / max), failures and longest stall.
The writer (benchmarks/legacy_writer.py) speaks only the legacy single-tenant statements, at a fixed
rate, in its own process.

    .venv/bin/python benchmarks/phases.py [--scale 10] [--rate 100] [--batch-size 10000] [--server DSN]
"""

from __future__ import annotations

import argparse
import time

import legacy_writer  # benchmarks/legacy_writer.py, beside this script
from psycopg import sql

from tenant_migrate import demo, embedded, runner
from tenant_migrate.db import connection, row_counts, scalar, scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0, help="legacy writer operations per second")
    parser.add_argument("--batch-size", type=int, default=runner.Settings.batch_size)
    parser.add_argument("--server", help="maintenance DSN of the server to use (default: the embedded one)")
    args = parser.parse_args()
    server = args.server or embedded.start()
    name = f"bench_phases_{int(time.time())}"
    with scratch_database(server, name) as dsn:
        loaded = demo.load(dsn, args.scale)
        print(f"scale {args.scale}: {loaded['row_counts']['messages']:,} messages loaded in {loaded['seconds']} s")
        writer = legacy_writer.start(dsn, args.rate)
        time.sleep(2)
        started = time.time()
        outcomes = runner.migrate(dsn, to=7, settings=runner.Settings(batch_size=args.batch_size))
        ended = time.time()
        time.sleep(1)
        ops = legacy_writer.finish(writer)
        w = legacy_writer.summarize(ops, started, ended)
        print(f"\n{'phase':<32}{'seconds':>9}")
        for o in outcomes:
            print(f"{o.phase} {o.name:<30}{o.seconds:>9.2f}")
        print(f"{'total':<32}{ended - started:>9.2f}")
        print(f"\nlegacy writer at {args.rate:.0f} ops/s: {w['attempted']:,} operations, {w['failed']} failed; latency "
              f"p50 {w['p50_ms']:.1f} ms, p99 {w['p99_ms']:.1f} ms, max {w['max_ms']:.1f} ms; "
              f"longest stall {w['longest_stall_ms']:.0f} ms")
        with connection(dsn) as conn:
            nulls = sum(scalar(conn, sql.SQL("SELECT count(*) FROM {} WHERE user_id IS NULL").format(sql.Identifier(t)))
                        for t in ("contacts", "messages", "orders", "campaigns"))
            print(f"after: {row_counts(conn)}; NULL tenant ids: {nulls}")


if __name__ == "__main__":
    main()
