"""Phase 9 on a real Citus cluster: how long distribution takes, how long the live app's writes wait, and a tenant's
lookups per second on one server against the cluster.

    .venv/bin/python benchmarks/distribute.py [--scale 10] [--rate 100] [--seconds 5] [--clients 4] [--out DIR]

Starts a local cluster (tenant_migrate/citus/cluster.py: a coordinator and two workers, private servers of the
PostgreSQL that Citus is installed into), loads the legacy demo at --scale on the coordinator and migrates it through
phases 1-8 there (local tables). Then:
- lookups on one server: the tenant's contact by phone number (the backend contract's lookup, as the app's login
  role in tenant_app, each in its own transaction that names the tenant), for --seconds, by 1 and by --clients
  clients;
- phase 9 applied by the runner while the legacy writer (benchmarks/legacy_writer.py, --rate calls/s, through the
  coordinator) writes: the phase's time, each step's, and the writer's longest stall and failures, and its
  acknowledged writes found afterwards;
- the same lookups on the cluster;
- phase 9 rolled back beside the writer (every table back to a local table on the coordinator).
Prints the figures and writes distribute.json to --out.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import threading
import time
from pathlib import Path

import legacy_writer  # benchmarks/legacy_writer.py, beside this script
from psycopg.conninfo import make_conninfo

from tenant_migrate import backend_contract as bc
from tenant_migrate import demo, runner
from tenant_migrate.citus import cluster
from tenant_migrate.db import connect, connection, scalar

APP_ROLE = "bench_app"
SETTLE_S = 2.0  # the writer runs alone this long before phase 9 starts, and after it ends


def lookups(dsn: str, phones: list[str], seconds: float, clients: int) -> dict[str, float]:
    """Contact-by-phone lookups of tenant 1 by `clients` clients for `seconds`: per second, and p50/p99 in ms."""
    latencies: list[float] = []
    lock = threading.Lock()

    def client(seed: int) -> None:
        pick, mine = random.Random(seed), []  # noqa: S311 - which phone number to look up, not a secret
        with connect(make_conninfo(dsn, user=APP_ROLE), autocommit=False) as conn:
            query = bc.read_sql("tenant/find_contact.sql")
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                started = time.perf_counter()
                with conn.transaction():
                    bc.name_tenant(conn, 1)
                    conn.execute(query, {"phone_number": pick.choice(phones), "user_id": 1,
                                         "unfilled": False}).fetchone()
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    return {"clients": clients, "per_s": round(len(latencies) / seconds, 1),
            "p50_ms": round(latencies[len(latencies) // 2], 3),
            "p99_ms": round(latencies[int(len(latencies) * 0.99)], 3)}


def lookup_figures(dsn: str, seconds: float, clients: int) -> list[dict[str, float]]:
    with connection(dsn) as conn:
        phones = [r[0] for r in conn.execute("SELECT phone_number FROM contacts WHERE user_id = 1 LIMIT 2000")]
    return [lookups(dsn, phones, seconds, 1), lookups(dsn, phones, seconds, clients)]


def step_seconds(dsn: str, run_id: int) -> dict[str, float]:
    """Each step's time, from the ledger: the time between the moments consecutive steps were done."""
    with connection(dsn) as conn:
        started = scalar(conn, "SELECT started_at FROM tenant_migrate.phase_runs WHERE id = %s", (run_id,))
        done = conn.execute("SELECT step, updated_at FROM tenant_migrate.step_progress WHERE run_id = %s "
                            "ORDER BY updated_at", (run_id,)).fetchall()
    marks = [started, *(at for _, at in done)]
    return {step: round((b - a).total_seconds(), 2)
            for (step, _), a, b in zip(done, marks[:-1], marks[1:], strict=True)}


def beside_the_writer(dsn: str, rate: float, direction: str) -> dict:
    """Phase 9 applied (up) or rolled back (down) beside the legacy writer."""
    writer = legacy_writer.start(dsn, rate)
    time.sleep(SETTLE_S)
    started = time.time()
    outcome = runner.apply_phase(dsn, 9) if direction == "up" else runner.rollback_phase(dsn, 9)
    ended = time.time()
    time.sleep(SETTLE_S)
    ops = legacy_writer.finish(writer)
    return {"seconds": outcome.seconds, "steps_s": step_seconds(dsn, outcome.run_id),
            "writer": legacy_writer.summarize(ops, started, ended), "rows": legacy_writer.lost_rows(dsn, ops)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=100.0, help="legacy writer calls per second")
    parser.add_argument("--seconds", type=float, default=5.0, help="each lookup measurement")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args()
    if reason := cluster.unavailable():
        raise SystemExit(f"no Citus cluster here: {reason}")
    with tempfile.TemporaryDirectory(prefix="tm-citus-bench-") as base:
        nodes = cluster.start(Path(base))
        try:
            dsn = cluster.create_database(nodes, "tm_bench_distribute")
            loaded = demo.load(dsn, args.scale)
            started = time.monotonic()
            runner.migrate(dsn, to=8)
            print(f"scale {args.scale}: {loaded['row_counts']}; phases 1-8 on the coordinator in "
                  f"{time.monotonic() - started:.0f} s")
            with connection(dsn) as conn:
                conn.execute(f"CREATE ROLE {APP_ROLE} LOGIN IN ROLE tenant_app")
                conn.execute("VACUUM ANALYZE")
            result = {"scale": args.scale, "rows": loaded["row_counts"],
                      "one_server": lookup_figures(dsn, args.seconds, args.clients),
                      "phase_9": beside_the_writer(dsn, args.rate, "up")}
            result["cluster"] = lookup_figures(dsn, args.seconds, args.clients)
            with connection(dsn) as conn:  # the writer's new contacts, so that it can write them again below
                conn.execute("DELETE FROM contacts WHERE phone_number LIKE '+1888%%'")
            result["rollback_9"] = beside_the_writer(dsn, args.rate, "down")
            result["load_average"] = os.getloadavg()
        finally:
            cluster.stop(nodes)
    report(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "distribute.json").write_text(json.dumps(result, indent=2) + "\n")


def report(result: dict) -> None:
    for key, what in (("phase_9", "phase 9"), ("rollback_9", "its rollback")):
        phase, writer = result[key], result[key]["writer"]
        steps = ", ".join(f"{k} {v} s" for k, v in phase["steps_s"].items())
        print(f"{what}: {phase['seconds']:.1f} s; steps: {steps}")
        print(f"  legacy writer: {writer['attempted']} calls, {writer['failed']} failed, p50 {writer['p50_ms']} ms, "
              f"p99 {writer['p99_ms']} ms, longest stall {writer['longest_stall_ms']} ms (at "
              f"{writer['longest_stall_at_s']} s); acknowledged writes lost: {phase['rows']['lost']} of "
              f"{phase['rows']['checked']}")
    print(f"load average at the end: {', '.join(f'{x:.1f}' for x in result['load_average'])}")
    for where in ("one_server", "cluster"):
        print(f"tenant lookups by phone, {where.replace('_', ' ')}: " + "; ".join(
            f"{f['clients']} client(s) {f['per_s']:,.0f}/s (p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms)"
            for f in result[where]))


if __name__ == "__main__":
    main()
