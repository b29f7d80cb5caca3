"""flows/gate.py: one go/no-go gate for migrate and rollback; every decision in the ledger, by a named approver (on the
allow-list when one is set); a timeout is a no."""

import pytest
from conftest import paused_run_id, run_in_thread
from prefect import resume_flow_run
from prefect.variables import Variable

from tenant_migrate import ledger, runner
from tenant_migrate.cli.flows import run_flow
from tenant_migrate.db import connection
from tenant_migrate.errors import GateTimedOut
from tenant_migrate.flows import gate
from tenant_migrate.flows.migrate import migrate
from tenant_migrate.flows.rollback import rollback

pytestmark = [pytest.mark.flow, pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def decisions(dsn: str) -> list[tuple]:
    with connection(dsn) as conn:
        return [(d["phase"], d["direction"], d["decision"], d["decided_by"], d["comment"], d["run_id"] is not None,
                 bool(d["flow_run_id"])) for d in ledger.decisions(conn)]


def test_the_rollback_gate_records_each_decision_and_a_no_leaves_the_phase_applied(legacy_db):
    runner.migrate(legacy_db, to=2)
    thread, out = run_in_thread(rollback, database=legacy_db, to=0, approval="manual", backups=False,
                                poll_interval=1)
    resume_flow_run(paused_run_id(), run_input={"approve": True, "approver": "dba", "comment": "phase 2 off"})
    resume_flow_run(paused_run_id(), run_input={"approve": False, "approver": "lead", "comment": "keep 1"})
    thread.join(timeout=300)
    assert out["state"].is_failed()
    assert "rollback of phase 1 rejected by lead: stopped, phase 1 stays applied" in out["state"].message
    assert [(2, "down", "approved", "dba", "phase 2 off", True, True),
            (1, "down", "rejected", "lead", "keep 1", False, True)] == decisions(legacy_db)
    with connection(legacy_db) as conn:
        runs = ledger.latest_runs(conn)
    assert ("up", "applied") == (runs[1]["direction"], runs[1]["status"])
    assert ("down", "rolled_back", "approved", "dba") == (runs[2]["direction"], runs[2]["status"],
                                                          runs[2]["decision"], runs[2]["approved_by"])


def test_a_rollback_gate_that_times_out_rolls_nothing_back_and_says_so(legacy_db):
    runner.migrate(legacy_db, to=1)
    with pytest.raises(GateTimedOut, match="so nothing was rolled back") as refused:
        run_flow(rollback, database=legacy_db, to=0, approval="manual", approval_timeout_s=2, poll_interval=1,
                 backups=False)
    assert (1, "down", "timed_out") == (refused.value.phase, refused.value.direction, refused.value.verdict)
    assert [(1, "down", "timed_out", "", "no answer within 2 s", False, True)] == decisions(legacy_db)
    with connection(legacy_db) as conn:
        assert {1} == ledger.applied_phases(conn)


def test_a_migrate_gate_that_times_out_says_the_phase_was_rolled_back(legacy_db):
    with pytest.raises(GateTimedOut, match="so the phase was rolled back") as refused:
        run_flow(migrate, database=legacy_db, to=1, approval="manual", approval_timeout_s=2, poll_interval=1,
                 backups=False, data_docs=False)
    assert (1, "up", "timed_out") == (refused.value.phase, refused.value.direction, refused.value.verdict)
    assert [(1, "up", "timed_out", "", "no answer within 2 s", True, True)] == decisions(legacy_db)


def test_automatic_approval_is_recorded_as_auto(legacy_db):
    run_flow(migrate, database=legacy_db, to=1, approval="auto", backups=False, data_docs=False)
    assert [(1, "up", "auto", "auto", "approved automatically (approval auto)", True, True)] == decisions(legacy_db)


def test_an_approval_without_a_name_is_refused_by_the_form_and_the_run_stays_paused(legacy_db):
    thread, out = run_in_thread(database=legacy_db, to=1, approval="manual", backups=False, poll_interval=1,
                                data_docs=False)
    paused = paused_run_id()
    for nameless in ({"approve": True}, {"approve": True, "approver": ""}, {"approve": True, "approver": "   "}):
        with pytest.raises(RuntimeError, match="Cannot resume this run: Reason: .*approver"):
            resume_flow_run(paused, run_input=nameless)
    assert paused == paused_run_id()
    resume_flow_run(paused, run_input={"approve": True, "approver": "dba on call"})
    thread.join(timeout=300)
    assert out["state"].is_completed(), out["state"].message
    assert [(1, "up", "approved", "dba on call", "", True, True)] == decisions(legacy_db)


def test_with_an_allow_list_only_its_approvers_decide(legacy_db, monkeypatch):
    """The worker's list and the Prefect Variable's: a name must be on each one that is set. Another name is not a
    decision (not even a no-go, which would roll the phase back): the gate asks again."""
    monkeypatch.setenv(gate.APPROVERS_ENV, "dba on call, Lead")
    Variable.set(gate.APPROVERS_VARIABLE, ["lead", "intern"], overwrite=True)
    try:
        thread, out = run_in_thread(database=legacy_db, to=1, approval="manual", backups=False, poll_interval=1,
                                    data_docs=False)
        resume_flow_run(paused_run_id(), run_input={"approve": False, "approver": "intern", "comment": "no"})
        resume_flow_run(paused_run_id(), run_input={"approve": True, "approver": "dba on call"})
        resume_flow_run(paused_run_id(), run_input={"approve": True, "approver": "LEAD", "comment": "go"})
        thread.join(timeout=300)
    finally:
        Variable.unset(gate.APPROVERS_VARIABLE)
    assert out["state"].is_completed(), out["state"].message
    assert [(1, "up", "approved", "LEAD", "go", True, True)] == decisions(legacy_db)
