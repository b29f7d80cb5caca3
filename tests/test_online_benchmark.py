"""The online-migration benchmark harness works end to end at a tiny scale (no timing assertion).

Runs benchmarks/online_migration.py as a user does, against the session's server, with its own
ephemeral Prefect API in a temp PREFECT_HOME.
"""

import json
import os
import subprocess
import sys

import pytest

from tenant_migrate.paths import PROJECT_ROOT
from tenant_migrate.standby import is_local

pytestmark = [pytest.mark.slow, pytest.mark.flow]


def test_the_scripts_and_ours_both_ways_run_under_the_writer_and_lose_no_row(pg_server, tmp_path):
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_API_URL": ""}
    standby = ["--with-standby"] if is_local(pg_server) else []
    result = subprocess.run(
        [sys.executable, "benchmarks/online_migration.py", "--scale", "0.05", "--out", str(tmp_path),
         "--server", pg_server, *standby],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
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
