"""Every script of benchmarks/ runs as a user runs it, at the smallest size that still does all it does, against the
session's server (--server): it exits 0 and prints its figures. No timing is asserted: these keep the scripts from
rotting (a renamed SQL file, a moved function), the figures in docs/benchmarks.md come from real runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tenant_migrate import demo
from tenant_migrate.dsn import with_database
from tenant_migrate.paths import PROJECT_ROOT
from tenant_migrate.standby import is_local

# script and arguments (besides --server), what its output must contain; slow: more than about 10 s here
SMOKE = {
    "demo_load": (["--scale", "0.01"], "rows/s"),
    "backup": (["--scale", "0.01", "--repeat", "1"], "tenant-migrate backup + verify, directory -j 2"),
    "guard_cost": (["--scale", "0.01", "--seconds", "1", "--rounds", "1", "--sessions", "2"], '"app_point_lookups"'),
    "phases": (["--scale", "0.01", "--rate", "20"], "legacy writer at 20 ops/s"),
    "compat": (["--scale", "0.01", "--statements", "10", "--repeat", "1"], "on-demand check (schema-only copy"),
    "check": (["--scale", "0.01", "--repeat", "1"], "data share"),
    "flow_cost": (["--scale", "0.01", "--to", "2"], "outside the phases"),
    "forecast": (["--scale", "0.01", "--to", "2"], "forecast"),
}
SLOW = {"phases", "compat", "flow_cost", "forecast"}
FLOWS = {"flow_cost", "forecast"}  # they run the flows, on a temporary Prefect API of their own
VALIDATION_DATABASE = "tm_bench_validation"  # benchmarks/validation.py's


def run_benchmark(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, f"benchmarks/{script}.py", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("script", [pytest.param(s, marks=[pytest.mark.slow] if s in SLOW else []) for s in SMOKE])
def test_the_benchmark_runs_at_the_smallest_scale(script: str, pg_server: str, tmp_path: Path) -> None:
    args, expected = SMOKE[script]
    out = ["--out", str(tmp_path)] if script in {"guard_cost", "flow_cost", "forecast"} else []
    flows = {"PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": ""} if script in FLOWS else {}
    result = run_benchmark(script, *args, *out, "--server", pg_server, env={**os.environ, **flows})
    assert 0 == result.returncode, result.stdout[-2000:] + result.stderr[-3000:]
    assert expected in result.stdout, result.stdout[-2000:]


@pytest.mark.slow
def test_validation_then_rls_overhead_on_the_database_it_migrated(pg_server: str) -> None:
    """validation.py migrates its database phase by phase and keeps it; rls_overhead.py measures that one (a
    migration of its own would cost as much again)."""
    validation = run_benchmark("validation", "--scale", "0.01", "--repeat", "1", "--keep", "--server", pg_server)
    try:
        assert 0 == validation.returncode, validation.stdout[-2000:] + validation.stderr[-3000:]
        assert "8 08_row_level_security" in validation.stdout and "all phases" in validation.stdout
        rls = run_benchmark("rls_overhead", "--runs", "100", "--dsn", with_database(pg_server, VALIDATION_DATABASE))
        assert 0 == rls.returncode, rls.stdout[-2000:] + rls.stderr[-3000:]
        assert "contact by primary key" in rls.stdout
    finally:
        demo.drop_database(pg_server, VALIDATION_DATABASE)


def test_every_benchmark_has_a_smoke_test() -> None:
    scripts = {p.stem for p in (PROJECT_ROOT / "benchmarks").glob("*.py")}
    # the writer: in phases.py; distribute: needs a Citus cluster (docs/scale-out.md has its figures)
    tested_apart = {"validation", "rls_overhead", "online_migration", "legacy_writer", "distribute"}
    assert scripts - tested_apart == set(SMOKE)


@pytest.mark.slow
@pytest.mark.flow
def test_the_online_benchmark_runs_the_scripts_and_ours_both_ways_under_the_writer_and_loses_no_row(
        pg_server: str, tmp_path: Path) -> None:
    """benchmarks/online_migration.py end to end at a tiny scale, with its own ephemeral Prefect API in a temp
    PREFECT_HOME (no timing assertion)."""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": ""}
    standby = ["--with-standby"] if is_local(pg_server) else []
    result = run_benchmark("online_migration", "--scale", "0.05", "--out", str(tmp_path), "--server", pg_server,
                           *standby, env=env)
    assert 0 == result.returncode, result.stdout[-2000:] + result.stderr[-3000:]
    summary = json.loads((tmp_path / "online_migration.json").read_text())
    ours_runs = ["ours instant", "ours batched", *(["ours batched+standby"] if standby else [])]
    assert {"plain script", "physical limit", *ours_runs} == set(summary["runs"])
    for run in summary["runs"].values():
        assert [str(n) for n in range(1, 8)] == list(run["phases_s"])
        assert 0 == run["rows"]["lost"] and run["rows"]["checked"] > 0  # checked: the writer's acknowledged writes
        assert run["wal_bytes"] > 0 and set(run["heap_bytes_after"]) == {"contacts", "messages", "orders", "campaigns"}
    for way in ("instant", "batched"):
        ours = summary["runs"][f"ours {way}"]["writer"]
        assert ours["succeeded"] > 0 and 0 == ours["failed"]
    assert "ours instant / physical limit: wall time" in summary["ratios"]
    assert "ours instant / plain script: WAL" in summary["ratios"]
    assert summary["runs"]["plain script"]["guard"] is None
    for label in ours_runs:  # the guard watched all seven phases, beside the writer
        guard = summary["runs"][label]["guard"]
        assert (7, True) == (guard["whole_phases"], guard["queries_per_s"] > 0)
        assert f"{label}: guard's longest app wait / writer's longest stall" in summary["ratios"]
    if standby:
        assert summary["runs"]["ours batched+standby"]["guard"]["max_replica_lag_s"] is not None
        assert summary["runs"]["ours batched"]["guard"]["max_replica_lag_s"] is None
    assert (tmp_path / "online_migration.png").read_bytes().startswith(b"\x89PNG")
