"""Benchmark: what the guard itself costs the server and the app.

On a legacy demo database with app sessions around (idle ones, some in open transactions, and a lock queue
behind a session of ours, so that its pg_blocking_pids() path runs too), for --seconds each:
- the guard alone at each interval: its queries per second, its client thread's CPU and its server backend's CPU
  (from /proc: the server must run on this machine), and how long one reading takes (p50/p99, timed apart);
- the app's point lookups per second on one connection (a process of its own), without the guard and with it at
  the default interval, --rounds times each in ABBA order (the machine's noise is the error bar).

    .venv/bin/python benchmarks/guard_cost.py [--seconds 20] [--rounds 5] [--sessions 50] [--scale 1] [--server DSN]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tenant_migrate import demo, embedded
from tenant_migrate.acceptance.performance import percentile
from tenant_migrate.db import APPLICATION_NAME, WORK_APPLICATION_NAME, scalar, scratch_database
from tenant_migrate.guard import Budgets, Guard
from tenant_migrate.paths import PROJECT_ROOT, read_sql


@contextmanager
def app_sessions(dsn: str, idle: int, in_transaction: int, queued: int) -> Iterator[None]:
    """Idle app sessions, sessions idle in a transaction, and `queued` app sessions waiting behind a lock request
    of a session named as our work session."""
    conns = [psycopg.connect(dsn, application_name="app-idle", autocommit=True) for _ in range(idle)]
    for _ in range(in_transaction):
        conn = psycopg.connect(dsn, application_name="app-report")
        conn.execute("SELECT count(*) FROM contacts")
        conns.append(conn)
    work = psycopg.connect(dsn, application_name=WORK_APPLICATION_NAME, autocommit=True)
    threads = [threading.Thread(target=lambda: work.execute("SET lock_timeout = '1h'; LOCK TABLE contacts"))]
    waiters = [psycopg.connect(dsn, application_name="app-worker", autocommit=True) for _ in range(queued)]
    threads += [threading.Thread(target=lambda c=c: c.execute("SELECT count(*) FROM contacts")) for c in waiters]
    for thread in threads:
        thread.start()
        time.sleep(0.1)
    try:
        yield
    finally:
        for conn in conns:  # the open transactions end: the lock, then the queue, go through
            conn.close()
        for thread in threads:
            thread.join()
        for conn in [work, *waiters]:
            conn.close()


def reading_ms(dsn: str, n: int = 200) -> list[float]:
    """How long one reading of sample.sql takes, n times."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        times = []
        for _ in range(n):
            started = time.perf_counter()
            conn.execute(read_sql("guard/sample.sql"), {"ours": APPLICATION_NAME, "work": WORK_APPLICATION_NAME})
            times.append((time.perf_counter() - started) * 1000)
    return times


def guard_alone(dsn: str, interval: float, seconds: float) -> dict:
    guard = Guard(dsn, Budgets(interval_s=interval, lock_wait_ms=10**9)).start()  # sees the queue, cancels nothing
    time.sleep(seconds)
    figures = guard.stop()
    return {"interval_s": interval, "queries_per_s": figures["cost"]["queries_per_s"],
            "client_cpu_percent": round(100 * figures["cost"]["client_cpu_s"] / figures["seconds"], 2),
            "server_cpu_percent": round(100 * (figures["cost"]["server_cpu_s"] or 0) / figures["seconds"], 2),
            "app_waits_seen": figures["waits_seen"], "samples": figures["samples"]}


def lookups_per_s(dsn: str, seconds: float) -> float:
    with psycopg.connect(dsn, autocommit=True, application_name="app-lookups") as conn:
        top = scalar(conn, "SELECT max(id) FROM contacts")
        n, deadline = 0, time.monotonic() + seconds
        while time.monotonic() < deadline:
            conn.execute("SELECT id, thread_id FROM contacts WHERE id = %s", (1 + n * 7919 % top,)).fetchone()
            n += 1
    return n / seconds


def app_throughput(dsn: str, seconds: float, rounds: int) -> dict:
    """The app's lookups in a process of their own (as an app runs), without and with the guard, in ABBA order so
    that a drift of the machine's load does not favour either."""
    without: list[float] = []
    with_guard: list[float] = []
    with multiprocessing.get_context("spawn").Pool(1) as app:
        for i in range(2 * rounds):
            guarded = i % 4 in (1, 2)
            guard = Guard(dsn).start() if guarded else None
            (with_guard if guarded else without).append(app.apply(lookups_per_s, (dsn, seconds)))
            if guard:
                guard.stop()
    return {"without_guard_per_s": round(statistics.median(without)), "with_guard_per_s": round(
        statistics.median(with_guard)), "change_percent": round(100 * (statistics.median(with_guard) /
                                                                        statistics.median(without) - 1), 2),
            "rounds": rounds, "spread_without_percent": round(100 * (max(without) - min(without)) / max(without), 1),
            "spread_with_percent": round(100 * (max(with_guard) - min(with_guard)) / max(with_guard), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="alternations of the app throughput measurement")
    parser.add_argument("--sessions", type=int, default=50, help="idle app sessions around")
    parser.add_argument("--scale", type=float, default=1.0, help="demo data scale (1 = 100k messages)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results")
    parser.add_argument("--server", help="maintenance DSN of a server on this machine (default: the embedded one)")
    args = parser.parse_args()
    server = args.server or embedded.start()
    name = f"bench_guard_{int(time.time())}"
    with scratch_database(server, name) as dsn:
        demo.load(dsn, args.scale)
        with app_sessions(dsn, idle=args.sessions, in_transaction=5, queued=5):
            took = reading_ms(dsn)
            alone = [guard_alone(dsn, interval, args.seconds) for interval in (0.2, 0.05)]
        throughput = app_throughput(dsn, args.seconds / 2, args.rounds)
    result = {"sessions": {"idle": args.sessions, "in_transaction": 5, "queued_behind_ours": 5},
              "reading_ms": {"p50": round(percentile(took, 50), 2), "p99": round(percentile(took, 99), 2)},
              "guard_alone": alone, "app_point_lookups": throughput}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "guard_cost.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
