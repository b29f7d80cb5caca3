"""Benchmark: phases 1-7 under a live legacy writer, ours both ways against the plan as a plain psql script and
against the physical limit.

One legacy demo database is loaded; each run gets its own copy of it (CREATE DATABASE ... TEMPLATE)
and the same legacy writer (benchmarks/legacy_writer.py, its own process, 100 calls/s by default):
- plain script: sql/baseline/plan_as_script.sql by `psql -v ON_ERROR_STOP=1 -f` (plain ALTER TABLE, single
  UPDATE, plain CREATE INDEX); a phase's time runs from its `\\echo PHASE n` line to the next one;
- physical limit: sql/baseline/physical_limit.sql the same way: DEFAULT 1 columns, plain foreign keys, NOT
  NULL and indexes, no orchestration: what a perfect hand-written script costs (it locks the app out);
- ours instant / ours batched: the `migrate` flow up to phase 7 the instant way (the default) and the batched
  way, auto approval, backups off (--with-backups: once more with backups on), Data Docs off; a phase's time
  is its apply in the ledger, the rest of the flow (check, preflight, validation) is "outside phases".
Per run also: WAL written (pg_current_wal_lsn before and after: the writer's WAL is in every run alike) and
the heap size of each migrated table before and after.
Ours runs with the guard beside every phase (tenant_migrate/guard): its figures (longest app wait on the
migration, waits, cancels, replica lag, pauses, its own cost) are read from the ledger and shown beside the
writer's own (longest stall). --with-standby adds a run of ours batched with a streaming standby of the server
(tenant_migrate/standby.py), so that the guard also measures, and bounds, replica lag.
Prints a table, writes online_migration.json and online_migration.png (writer latency over time, phases
shaded) into --out. Phase 8 (row-level security) is beyond the plan and has no baseline: not compared.

    .venv/bin/python benchmarks/online_migration.py --scale 10
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import legacy_writer  # benchmarks/legacy_writer.py, beside this script

from tenant_migrate import demo, embedded, ledger, standby
from tenant_migrate.db import connection, create_database, row_counts, scalar
from tenant_migrate.dsn import describe, tool_env, with_database
from tenant_migrate.guard import store
from tenant_migrate.paths import PROJECT_ROOT
from tenant_migrate.validation.checkpoints import gx_module

PLAIN_SCRIPT = PROJECT_ROOT / "sql" / "baseline" / "plan_as_script.sql"
PHYSICAL_LIMIT = PROJECT_ROOT / "sql" / "baseline" / "physical_limit.sql"
MIGRATED_TABLES = ("contacts", "messages", "orders", "campaigns")
LAST_PHASE = 7
SETTLE_S = 2.0  # the writer runs alone this long before a migration starts, and 1 s after it ends

Span = tuple[str, float, float]  # phase number, wall-clock start, end


def copy_database(server: str, source: str, name: str) -> str:
    """A copy of `source` (nobody may be connected to it), by the server's file-level template copy."""
    with connection(server) as conn:
        create_database(conn, name, source)
    return with_database(server, name)


def run_script(script: Path, dsn: str) -> list[Span]:
    """psql -f a script; phase n runs from its `PHASE n` line to the next `PHASE` line."""
    marks, output = [], []
    conninfo, env = tool_env(dsn)  # the password to psql by environment: never on a command line others can read
    args = [str(embedded.bin_path("psql")), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(script), "-d", conninfo]
    with subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as psql:
        for line in psql.stdout or ():
            if line.startswith("PHASE "):
                marks.append((line.split()[1], time.time()))
            elif line.strip():
                output.append(line.strip())
    if psql.returncode:
        raise RuntimeError(f"{script.name} failed in phase {marks[-1][0] if marks else '?'}: "
                           f"{output[-1] if output else 'psql exit ' + str(psql.returncode)}")
    return [(label, start, end) for (label, start), (_, end) in zip(marks, marks[1:], strict=False)]


def run_ours(dsn: str, backups: bool, backfill: str = "instant") -> list[Span]:
    """The migrate flow to phase 7 (auto approval, Data Docs off); phase spans from the ledger."""
    from tenant_migrate.flows.migrate import migrate

    with tempfile.TemporaryDirectory(prefix="bench-backups-") as folder:
        state = migrate(database=dsn, to=LAST_PHASE, approval="auto", backups=backups, backup_dir=folder,
                        data_docs=False, backfill=backfill, return_state=True)
        if not state.is_completed():
            raise RuntimeError(f"migrate flow ended {state.type.value}: {state.message}")
    with connection(dsn) as conn:
        runs = ledger.latest_runs(conn)
    return [(str(n), r["started_at"].timestamp(), r["finished_at"].timestamp()) for n, r in sorted(runs.items())]


def physical(dsn: str) -> tuple[str, dict[str, int]]:
    """The WAL position and the heap size of each migrated table now."""
    with connection(dsn) as conn:
        lsn = scalar(conn, "SELECT pg_current_wal_lsn()::text")
        heaps = {t: scalar(conn, "SELECT pg_relation_size(%s::regclass)", (f"public.{t}",)) for t in MIGRATED_TABLES}
    return lsn, heaps


def wal_between(dsn: str, start: str, end: str) -> int:
    with connection(dsn) as conn:
        return int(scalar(conn, "SELECT pg_wal_lsn_diff(%s, %s)", (end, start)))


def phase_at(spans: list[Span], moment: float) -> str:
    return next((label for label, start, end in spans if start <= moment <= end), "between phases")


def guard_figures(dsn: str) -> dict | None:
    """What the guard saw over phases 1-7 (None for the scripts, which have no guard), summed up."""
    with connection(dsn) as conn:
        phases = {n: r["figures"] for n, r in store.latest(conn).items() if r["direction"] == "up"}
    if not phases:
        return None
    waits = [(f["longest_wait"], n) for n, f in phases.items() if f["longest_wait"]]
    longest, in_phase = max(waits, key=lambda w: w[0]["wait_ms"], default=(None, None))
    lags = [(s["max_lag_s"], s["max_behind_bytes"]) for f in phases.values() for s in f["standbys"].values()]
    seconds = sum(f["seconds"] for f in phases.values())
    cpu = sum(f["cost"]["client_cpu_s"] + (f["cost"]["server_cpu_s"] or 0) for f in phases.values())
    return {
        "whole_phases": sum(f["whole_phase"] for f in phases.values()),
        "longest_app_wait_ms": longest["wait_ms"] if longest else 0.0,
        "longest_app_wait": {"phase": in_phase, **longest} if longest else None,
        "app_waits_seen": sum(f["waits_seen"] for f in phases.values()),
        "cancelled": sum(len(f["cancels"]) for f in phases.values()),
        "max_replica_lag_s": max((lag for lag, _ in lags), default=None),
        "max_behind_mb": round(max((b for _, b in lags), default=0) / 1048576, 1) if lags else None,
        "pauses": sum(len(f["pauses"]) for f in phases.values()),
        "paused_s": round(sum(f["paused_s"] for f in phases.values()), 2),
        "queries_per_s": round(sum(f["cost"]["queries"] for f in phases.values()) / seconds, 2) if seconds else 0,
        "cpu_percent_of_a_core": round(100 * cpu / seconds, 2) if seconds else 0,
        "watched_s": round(seconds, 1),
    }


def measure(server: str, source: str, name: str, migration: Callable[[str], list[Span]],
            rate: float, with_standby: bool = False) -> tuple[dict, list[legacy_writer.Op], list[Span], float]:
    """One run on a fresh copy: the writer, the migration, the writer's summary and the row-loss check; with a
    streaming standby of the server from before the writer starts until the run ends, if asked."""
    dsn = copy_database(server, source, name)
    replica = standby.start(server) if with_standby else None
    try:
        writer = legacy_writer.start(dsn, rate)
        time.sleep(SETTLE_S)
        lsn_before, heaps_before = physical(dsn)
        started = time.time()
        try:
            spans = migration(dsn)
        finally:
            ended = time.time()
            lsn_after, heaps_after = physical(dsn)
            time.sleep(1)
            ops = legacy_writer.finish(writer)
        writer_stats = legacy_writer.summarize(ops, started, ended)
        stall_mid = started + writer_stats["longest_stall_at_s"] + writer_stats["longest_stall_ms"] / 2000
        writer_stats["longest_stall_phase"] = phase_at(spans, stall_mid)
        phases = {label: round(end - start, 2) for label, start, end in spans}
        slowest = sorted(ops, key=lambda o: o.latency, reverse=True)[:5]
        result = {
            "wall_s": round(ended - started, 2),
            "phases_s": phases,
            "outside_phases_s": round(ended - started - sum(phases.values()), 2),
            "phase_spans_s": {label: [round(a - started, 2), round(b - started, 2)] for label, a, b in spans},
            "writer": writer_stats,
            "slowest_calls": [{"at_s": round(o.at - started, 2), "ms": round(o.latency * 1000, 1), "call": o.kind,
                               "phase": phase_at(spans, o.at + o.latency / 2)} for o in slowest],
            "rows": legacy_writer.lost_rows(dsn, ops),
            "wal_bytes": wal_between(dsn, lsn_before, lsn_after),
            "heap_bytes_before": heaps_before,
            "heap_bytes_after": heaps_after,
            "standby": replica.name if replica else None,
            "guard": guard_figures(dsn),
        }
        with connection(dsn) as conn:
            result["row_counts_after"] = row_counts(conn)
        return result, ops, spans, started
    finally:
        if replica:
            standby.stop(replica)
        demo.drop_database(server, name)


def plot(runs: dict[str, tuple[dict, list[legacy_writer.Op], list[Span], float]], path: Path) -> None:
    """Writer latency over time, one panel per run on a shared time axis, phases shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(runs), 1, figsize=(12, 3.2 * len(runs)), sharex=True, squeeze=False)
    for ax, (label, (result, ops, spans, started)) in zip(axes[:, 0], runs.items(), strict=True):
        for i, (phase, start, end) in enumerate(spans):
            ax.axvspan(start - started, end - started, color=("#dbe9f6", "#fde9d0")[i % 2], lw=0)
            ax.text((start + end) / 2 - started, 1.02, phase, transform=ax.get_xaxis_transform(), ha="center",
                    fontsize=8)
        ok = [o for o in ops if o.error is None]
        ax.scatter([o.at - started for o in ok], [max(o.latency * 1000, 0.1) for o in ok], s=3, color="#1f4e79")
        failed = [o for o in ops if o.error]
        if failed:
            ax.scatter([o.at - started for o in failed], [max(o.latency * 1000, 0.1) for o in failed], s=12,
                       marker="x", color="red", label=f"{len(failed)} failed")
            ax.legend(loc="upper right")
        w = result["writer"]
        ax.set_title(f"{label}: {result['wall_s']:.1f} s; writer p99 {w['p99_ms']:.1f} ms, max {w['max_ms']:.0f} ms, "
                     f"longest stall {w['longest_stall_ms']:.0f} ms, {w['failed']} failed", fontsize=10, pad=14)
        ax.set_yscale("log")
        ax.set_ylabel("write latency (ms)")
        ax.axvline(result["wall_s"], color="grey", ls="--", lw=0.8)
    axes[-1, 0].set_xlabel("seconds since the migration started (shaded: phases, numbered)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def report(results: dict[str, dict], ratios: dict[str, float]) -> str:
    labels = list(results)
    rows: list[tuple[str, list[str]]] = [("wall time (s)", [f"{r['wall_s']:.1f}" for r in results.values()])]
    for phase in sorted({p for r in results.values() for p in r["phases_s"]}, key=int):
        rows.append((f"  phase {phase} (s)", [f"{r['phases_s'].get(phase, 0):.1f}" for r in results.values()]))
    rows.append(("  outside phases (s)", [f"{r['outside_phases_s']:.1f}" for r in results.values()]))
    for key, title in (("attempted", "writer calls"), ("succeeded", "  succeeded"), ("failed", "  failed"),
                       ("p50_ms", "latency p50 (ms)"), ("p99_ms", "latency p99 (ms)"), ("max_ms", "latency max (ms)"),
                       ("longest_stall_ms", "longest stall (ms)"), ("longest_stall_phase", "  in phase")):
        rows.append((title, [str(r["writer"][key]) for r in results.values()]))
    rows.append(("rows lost / checked", [f"{r['rows']['lost']} / {r['rows']['checked']}" for r in results.values()]))
    rows.append(("WAL written (MB)", [f"{r['wal_bytes'] / 1048576:,.0f}" for r in results.values()]))
    for table in MIGRATED_TABLES:
        rows.append((f"heap {table} (MB)", [f"{r['heap_bytes_before'][table] / 1048576:,.0f} -> "
                                            f"{r['heap_bytes_after'][table] / 1048576:,.0f}"
                                            for r in results.values()]))
    for key, title in (("longest_app_wait_ms", "guard: longest wait"), ("app_waits_seen", "  app waits seen"),
                       ("cancelled", "  cancelled"), ("max_replica_lag_s", "  replica lag (s)"),
                       ("max_behind_mb", "  behind (MB)"), ("pauses", "  pauses"), ("paused_s", "  paused (s)"),
                       ("queries_per_s", "  its queries/s"), ("cpu_percent_of_a_core", "  its CPU (%)")):
        rows.append((title, [str((r["guard"] or {}).get(key, "-")) for r in results.values()]))
    lines = [f"{'':<22}" + "".join(f"{label:>16}" for label in labels)]
    lines += [f"{title:<22}" + "".join(f"{v:>16}" for v in values) for title, values in rows]
    lines += [f"{name}: {value:.2f}" for name, value in ratios.items()]
    return "\n".join(lines)


def benchmark(server: str, scale: float, rate: float, out: Path, with_backups: bool = False,
              with_standby: bool = False) -> dict:
    """Load, run the scripts and ours both ways (and with backups, with a standby) on copies, write the JSON and the
    PNG."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:  # start an ephemeral Prefect API now, not inside a timing
        client.hello()
    gx_module()  # and import Great Expectations (about 3 s, once per process): a running worker has both
    source = f"bench_online_{int(time.time())}"
    loaded = demo.load(demo.create_database(server, source), scale)
    print(f"scale {scale}: {loaded['row_counts']['messages']:,} messages loaded in {loaded['seconds']} s "
          f"on {describe(server)}", flush=True)
    migrations: dict[str, Callable[[str], list[Span]]] = {
        "plain script": lambda dsn: run_script(PLAIN_SCRIPT, dsn),
        "physical limit": lambda dsn: run_script(PHYSICAL_LIMIT, dsn),
        "ours instant": lambda dsn: run_ours(dsn, backups=False),
        "ours batched": lambda dsn: run_ours(dsn, backups=False, backfill="batched")}
    if with_backups:
        migrations["ours+backups"] = lambda dsn: run_ours(dsn, backups=True)
    if with_standby:
        migrations["ours batched+standby"] = lambda dsn: run_ours(dsn, backups=False, backfill="batched")
    runs = {}
    try:
        for label, migration in migrations.items():
            print(f"{label} ...", flush=True)
            runs[label] = measure(server, source, f"{source}_{label.replace('+', '_').replace(' ', '_')}", migration,
                                  rate, with_standby=label.endswith("+standby"))
    finally:
        demo.drop_database(server, source)
    results = {label: run[0] for label, run in runs.items()}
    ratios = {}
    for label in (k for k in results if k.startswith("ours")):
        for reference in ("plain script", "physical limit"):
            ratios[f"{label} / {reference}: wall time"] = results[label]["wall_s"] / results[reference]["wall_s"]
        ratios[f"{label} / plain script: WAL"] = results[label]["wal_bytes"] / max(
            results["plain script"]["wal_bytes"], 1)
        ratios[f"{label} / plain script: longest stall"] = results[label]["writer"]["longest_stall_ms"] / max(
            results["plain script"]["writer"]["longest_stall_ms"], 0.001)
        ratios[f"{label}: heap after / before"] = sum(results[label]["heap_bytes_after"].values()) / max(
            sum(results[label]["heap_bytes_before"].values()), 1)
        ratios[f"{label}: guard's longest app wait / writer's longest stall"] = results[label]["guard"][
            "longest_app_wait_ms"] / max(results[label]["writer"]["longest_stall_ms"], 0.001)
    out.mkdir(parents=True, exist_ok=True)
    summary = {"scale": scale, "rate": rate, "rows_loaded": loaded["row_counts"], "load_s": loaded["seconds"],
               "load_average_at_end": os.getloadavg(), "cpus": os.cpu_count(), "runs": results,
               "ratios": {k: round(v, 3) for k, v in ratios.items()}}
    (out / "online_migration.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(runs, out / "online_migration.png")
    print(report(results, ratios))
    print(f"wrote {out / 'online_migration.json'} and {out / 'online_migration.png'}")
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0, help="demo scale (1 = 100k messages)")
    parser.add_argument("--rate", type=float, default=100.0, help="legacy writer calls per second")
    parser.add_argument("--with-backups", action="store_true", help="also run ours with backups on")
    parser.add_argument("--with-standby", action="store_true",
                        help="also run ours batched with a streaming standby of the server (a local server only)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "benchmarks" / "results")
    parser.add_argument("--server", help="maintenance DSN of the server to use (default: the embedded one)")
    args = parser.parse_args()
    # an ephemeral Prefect API starts slowly on a busy 2-core machine; its logs would drown the table
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    benchmark(args.server or embedded.start(), args.scale, args.rate, args.out, args.with_backups, args.with_standby)


if __name__ == "__main__":
    main()
