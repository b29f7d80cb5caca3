"""Benchmark: phases 1-7 by the runner on a demo database, with a legacy writer running throughout.

Prints the time of each phase and the writer's latency (p50 / p99 / max), failures and longest stall.
The writer speaks only the legacy single-tenant statements, at a fixed rate, in its own process.

    .venv/bin/python benchmarks/phases.py --scale 10
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import time

import psycopg

from tasks import demo, embedded, runner
from tasks.db import connection, row_counts


def legacy_writer(dsn: str, rate: float, stop: mp.Event, out: mp.Queue) -> None:
    """Legacy backend calls at `rate` per second: (start time, latency s, ok) per call."""
    samples, n = [], 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        max_message = conn.execute("SELECT max(id) FROM messages").fetchone()[0]
        next_at = time.monotonic()
        while not stop.is_set():
            n += 1
            started = time.monotonic()
            try:
                kind = n % 4
                if kind == 0:
                    conn.execute("INSERT INTO contacts (phone_number, thread_id) VALUES (%s, %s) RETURNING id",
                                 (f"+1888{n:07d}", f"bench-{n}")).fetchone()
                elif kind == 1:
                    conn.execute("INSERT INTO messages (contact_id, message_id, direction, message_type, content_text,"
                                 " status, sent_at) VALUES (1 + %s %% 1000, %s, 'incoming', 'text', 'hola 👋', "
                                 "'delivered', NOW())", (n, f"wamid.bench.{n}"))
                elif kind == 2:
                    conn.execute("UPDATE messages SET status = %s WHERE id = %s", ("read", 1 + n * 7919 % max_message))
                else:
                    conn.execute("INSERT INTO orders (contact_id, order_details, status) VALUES (1 + %s %% 1000, "
                                 "'{\"items\": []}', 'pending')", (n,))
                samples.append((started, time.monotonic() - started, True))
            except psycopg.Error:
                samples.append((started, time.monotonic() - started, False))
            next_at += 1 / rate
            time.sleep(max(0.0, next_at - time.monotonic()))
    out.put(samples)


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] if len(values) > 1 else (values or [0])[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0, help="legacy writer operations per second")
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()
    server = embedded.start()
    name = f"bench_phases_{int(time.time())}"
    dsn = demo.create_database(server, name)
    try:
        loaded = demo.load(dsn, args.scale)
        print(f"scale {args.scale}: {loaded['row_counts']['messages']:,} messages loaded in {loaded['seconds']} s")
        stop, out = mp.Event(), mp.Queue()
        writer = mp.Process(target=legacy_writer, args=(dsn, args.rate, stop, out))
        writer.start()
        time.sleep(2)
        started = time.monotonic()
        outcomes = runner.migrate(dsn, settings=runner.Settings(batch_size=args.batch_size))
        total = time.monotonic() - started
        time.sleep(1)
        stop.set()
        samples = out.get()
        writer.join()
        latencies = [s[1] * 1000 for s in samples]
        starts = sorted(s[0] + s[1] for s in samples if s[2])
        stall = max((b - a for a, b in zip(starts, starts[1:], strict=False)), default=0) * 1000
        print(f"\n{'phase':<32}{'seconds':>9}")
        for o in outcomes:
            print(f"{o.phase} {o.name:<30}{o.seconds:>9.2f}")
        print(f"{'total':<32}{total:>9.2f}")
        failed = sum(1 for s in samples if not s[2])
        print(f"\nlegacy writer at {args.rate:.0f} ops/s: {len(samples):,} operations, {failed} failed; latency "
              f"p50 {percentile(latencies, 50):.1f} ms, p99 {percentile(latencies, 99):.1f} ms, "
              f"max {max(latencies):.1f} ms; longest stall {stall:.0f} ms")
        with connection(dsn) as conn:
            nulls = sum(conn.execute(f"SELECT count(*) FROM {t} WHERE user_id IS NULL").fetchone()[0]
                        for t in ("contacts", "messages", "orders", "campaigns"))
            print(f"after: {row_counts(conn)}; NULL tenant ids: {nulls}")
    finally:
        demo.drop_database(server, name)


if __name__ == "__main__":
    main()
