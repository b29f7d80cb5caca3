"""flows/rollback.py under a real (test) Prefect API: each phase gated, backed up, reverted, newest first."""

import pytest

from tenant_migrate import ledger, runner
from tenant_migrate.db import catalog_shape, connection, row_counts
from tenant_migrate.flows.rollback import rollback

pytestmark = [pytest.mark.flow, pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def test_the_rollback_flow_backs_up_and_reverts_each_phase_newest_first(legacy_db, tmp_path):
    with connection(legacy_db) as conn:
        legacy = (catalog_shape(conn), row_counts(conn))
    runner.migrate(legacy_db, to=3)
    state = rollback(database=legacy_db, to=0, approval="auto", backup_dir=str(tmp_path), return_state=True)
    assert state.is_completed(), state.message
    assert [3, 2, 1] == [row["phase"] for row in state.result()]
    assert 3 == len(list(tmp_path.glob("*phase*")))
    with connection(legacy_db) as conn:
        assert legacy == (catalog_shape(conn), row_counts(conn))
        assert all(r["backup_path"] for r in ledger.history(conn) if r["direction"] == "down")


def test_bad_rollback_parameters_are_refused_before_anything_runs(legacy_db):
    runner.migrate(legacy_db, to=1)
    for bad, message in (({"to": 99}, "cannot roll back to phase 99: choose 0"),
                         ({"approval_timeout_s": 0}, "approval timeout 0 s is too small")):
        state = rollback(**({"database": legacy_db, "to": 0, "approval": "auto", "backups": False} | bad),
                         return_state=True)
        assert state.is_failed() and message in state.message
    with connection(legacy_db) as conn:
        assert {1} == ledger.applied_phases(conn)
