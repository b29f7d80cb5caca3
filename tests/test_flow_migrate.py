"""flows/migrate.py under a real (test) Prefect API: auto approval, a manual gate approved, rejected, timed out."""

import inspect
import json
import threading
from typing import Any

import pytest
import yaml
from conftest import paused_run_id, run_in_thread
from prefect import resume_flow_run
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.deployments import run_deployment
from prefect.flow_engine import run_flow
from prefect.flows import load_flow_from_entrypoint

from tenant_migrate import ledger, runner
from tenant_migrate.db import catalog_shape, connection, table_stats
from tenant_migrate.errors import MigrationError
from tenant_migrate.flows import gate
from tenant_migrate.flows.migrate import migrate
from tenant_migrate.paths import PROJECT_ROOT
from tenant_migrate.plan import default_target

pytestmark = [pytest.mark.flow, pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def test_auto_approval_migrates_every_phase_with_backups(legacy_db, tmp_path):
    state = migrate(database=legacy_db, approval="auto", backup_dir=str(tmp_path), acceptance_load_seconds=1,
                    return_state=True)
    assert state.is_completed(), state.message
    summary = state.result()
    assert list(range(1, default_target() + 1)) == [row["phase"] for row in summary]
    assert {"auto"} == {row["decision"] for row in summary}
    with connection(legacy_db) as conn:
        runs = ledger.latest_runs(conn)
    assert all(r["backup_sha256"] and r["validation"]["success"] for r in runs.values())
    with get_client(sync_client=True) as client:
        key = ArtifactFilter(key=ArtifactFilterKey(any_=["acceptance-checklist"]))
        report = client.read_artifacts(artifact_filter=key)
    assert report and "ready for customer onboarding" in report[0].description
    assert {"pass"} == {row["result"] for row in json.loads(report[0].data)}


def test_the_count_after_a_phase_is_the_next_ones_snapshot_while_it_is_fresh(legacy_db, monkeypatch):
    """One count of the legacy tables per phase: the runner counts only for the first phase of a flow run, and
    again for a phase whose approval came later than REUSED_COUNTS_S after the count."""
    counted = []
    monkeypatch.setattr(runner, "table_stats", lambda conn: counted.append(conn) or table_stats(conn))
    state = migrate(database=legacy_db, to=3, approval="auto", backups=False, data_docs=False, return_state=True)
    assert state.is_completed(), state.message
    assert 1 == len(counted)
    monkeypatch.setattr(runner, "REUSED_COUNTS_S", -1.0)
    state = migrate(database=legacy_db, to=5, approval="auto", backups=False, data_docs=False, return_state=True)
    assert state.is_completed(), state.message
    assert 3 == len(counted)
    with connection(legacy_db) as conn:
        now = table_stats(conn).stats
        snapshots = [ledger.snapshot(conn, run["id"]) for run in ledger.latest_runs(conn).values()]
    assert [now] * 5 == snapshots


def test_a_manual_gate_approved_in_the_api_goes_on_and_records_the_approver(legacy_db):
    thread, out = run_in_thread(database=legacy_db, to=2, approval="manual", backups=False,
                                poll_interval=1, data_docs=False)
    resume_flow_run(paused_run_id(), run_input={"approve": True, "approver": "dba on call", "comment": "looks good"})
    resume_flow_run(paused_run_id(), run_input={"approve": True, "approver": "dba on call"})
    thread.join(timeout=300)
    assert out["state"].is_completed(), out["state"].message
    with connection(legacy_db) as conn:
        first = ledger.latest_runs(conn)[1]
    assert ("approved", "dba on call", "looks good") == (first["decision"], first["approved_by"],
                                                        first["approval_comment"])


def test_a_rejected_gate_rolls_the_phase_back_and_stops(legacy_db):
    with connection(legacy_db) as conn:
        before = catalog_shape(conn)
    thread, out = run_in_thread(database=legacy_db, to=3, approval="manual", backups=False,
                                poll_interval=1, data_docs=False)
    resume_flow_run(paused_run_id(), run_input={"approve": False, "approver": "lead", "comment": "not today"})
    thread.join(timeout=300)
    assert out["state"].is_failed()
    assert "rejected by lead" in out["state"].message
    with connection(legacy_db) as conn:
        assert before == catalog_shape(conn)
        runs = ledger.history(conn)
    assert [("up", "applied", "rejected"), ("down", "rolled_back", None)] == \
        [(r["direction"], r["status"], r["decision"]) for r in runs]


def test_an_approval_timeout_is_a_rejection_said_as_a_timeout(legacy_db):
    state = migrate(database=legacy_db, to=1, approval="manual", approval_timeout_s=2, poll_interval=1,
                    backups=False, data_docs=False, return_state=True)
    assert state.is_failed()  # Prefect words a timed-out pause itself ("never resumed")
    with connection(legacy_db) as conn:
        runs = ledger.history(conn)
    assert [("up", "applied", "timed_out"), ("down", "rolled_back", None)] == \
        [(r["direction"], r["status"], r["decision"]) for r in runs]


def test_a_dsn_with_a_password_is_refused_as_a_parameter():
    state = migrate(database="postgresql://u:hunter2@127.0.0.1:1/x", approval="auto", return_state=True)
    assert state.is_failed()
    assert "hunter2" not in state.message and "Prefect Secret block" in state.message


def test_a_phase_applied_without_a_decision_is_validated_and_gated_again(legacy_db):
    """A run killed at its gate (or phases applied by the plain runner) never had a go/no-go: ask again."""
    runner.migrate(legacy_db, to=2)
    thread, out = run_in_thread(database=legacy_db, to=2, approval="manual", backups=False,
                                poll_interval=1, data_docs=False)
    resume_flow_run(paused_run_id(), run_input={"approve": False, "approver": "dba", "comment": "not yet"})
    thread.join(timeout=300)
    assert out["state"].is_failed() and "phase 2" in out["state"].message
    with connection(legacy_db) as conn:
        runs, gated = ledger.latest_runs(conn), ledger.latest_run(conn, 2, "up")
    assert ("applied", None) == (runs[1]["status"], runs[1]["decision"])  # only the last phase can be re-validated
    assert ("down", "rolled_back") == (runs[2]["direction"], runs[2]["status"])
    assert ("rejected", "not yet") == (gated["decision"], gated["approval_comment"])


def test_prefect_yaml_deployments_match_their_flows():
    config = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text())
    names = {d["name"] for d in config["deployments"]}
    assert {"migrate-production", "rollback", "staging-dry-run"} == names
    for deployment in config["deployments"]:
        flow = load_flow_from_entrypoint(str(PROJECT_ROOT / deployment["entrypoint"]))  # as a worker loads it
        parameters = inspect.signature(flow.fn).parameters
        assert set(deployment["parameters"]) <= set(parameters), deployment["name"]
        assert 1 == deployment["concurrency_limit"]["limit"]
    assert config["deployments"][2]["schedules"][0]["cron"]


def run_as_deployment(parameters: dict) -> Any:
    """Run `migrate` as a worker runs a deployment's flow run: created through the API from a deployment, then
    executed here (its deployment id set, as in production)."""
    deployment_id = migrate.to_deployment(name="migrate-production-test").apply()
    flow_run = run_deployment(deployment_id, parameters=parameters, timeout=0)
    return run_flow(migrate, flow_run=flow_run, parameters=flow_run.parameters, return_type="state")


def test_a_deployments_run_cannot_approve_itself_unless_its_worker_allows_it(legacy_db, monkeypatch):
    parameters = {"database": legacy_db, "to": 1, "approval": "auto", "backups": False, "data_docs": False}
    monkeypatch.delenv(gate.ALLOW_AUTO_ENV, raising=False)
    state = run_as_deployment(parameters)
    assert state.is_failed()
    assert "approval auto is refused in a run of a deployment: its worker does not allow automatic approval" \
        in state.message
    with connection(legacy_db) as conn:
        assert not ledger.exists(conn)  # refused before anything ran
    monkeypatch.setenv(gate.ALLOW_AUTO_ENV, "1")  # a worker meant for rehearsals
    assert run_as_deployment(parameters).is_completed()


def test_a_deployments_manual_run_waits_only_for_approvers_on_an_allow_list(legacy_db, monkeypatch):
    """Without an allow-list anyone who reaches the UI could approve under any name: a deployment's run refuses before
    anything runs, and a gate whose list is gone meanwhile refuses to wait; with one it waits as before."""
    parameters = {"database": legacy_db, "to": 1, "approval": "manual", "backups": False, "data_docs": False,
                  "poll_interval": 1}
    monkeypatch.delenv(gate.APPROVERS_ENV, raising=False)
    state = run_as_deployment(parameters)
    assert state.is_failed()
    assert ("a run of a deployment waits at its gates only for named approvers, and no allow-list is set: set "
            "TENANT_MIGRATE_APPROVERS='ana, ben' in the worker's environment, or the Prefect Variable (prefect "
            "variable set tenant_migrate_approvers 'ana, ben'), then run it again") in state.message
    with connection(legacy_db) as conn:
        assert not ledger.exists(conn)  # refused before anything ran
    monkeypatch.setenv("PREFECT__RUNTIME__DEPLOYMENT__ID", "00000000-0000-0000-0000-000000000001")
    with pytest.raises(MigrationError, match="no allow-list is set"):  # the gate itself, should the list be gone
        gate.ask("go?", key="phase-1", approval="manual", timeout_s=60, poll_interval=1)
    monkeypatch.delenv("PREFECT__RUNTIME__DEPLOYMENT__ID")
    monkeypatch.setenv(gate.APPROVERS_ENV, "dba on call")
    out: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: out.update(state=run_as_deployment(parameters)))
    thread.start()
    resume_flow_run(paused_run_id(), run_input={"approve": True, "approver": "dba on call"})
    thread.join(timeout=300)
    assert out["state"].is_completed(), out["state"].message
    with connection(legacy_db) as conn:
        assert "dba on call" == ledger.latest_runs(conn)[1]["approved_by"]


@pytest.mark.parametrize("bad, message", [({"batch_size": 0}, "batch size 0 is out of range"),
                                          ({"lock_timeout_ms": 1}, "lock timeout 1 ms is too small"),
                                          ({"to": 42}, "there is no phase 42")])
def test_bad_flow_parameters_are_refused_before_anything_runs(legacy_db, bad, message):
    state = migrate(**({"database": legacy_db, "to": 1, "approval": "auto", "backups": False, "data_docs": False}
                       | bad), return_state=True)
    assert state.is_failed() and message in state.message
    with connection(legacy_db) as conn:
        assert not ledger.exists(conn)
