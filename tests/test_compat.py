"""tasks/compat.py: the app's statements at each gate of the migrate flow, checked on the database being migrated
before the phase and after it; without pg_stat_statements one line, and the migration goes on."""

import pytest
from conftest import APP_UPSERT_CALLS, paused_run_id, run_in_thread
from prefect import resume_flow_run
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

from tenant_migrate import runner
from tenant_migrate.cli.flows import run_flow
from tenant_migrate.dsn import database_name
from tenant_migrate.flows.migrate import migrate

pytestmark = [pytest.mark.flow, pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def artifact(key: str) -> str:
    """The newest markdown of a keyed artifact."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
                                      sort=ArtifactSort.CREATED_DESC, limit=1)
    assert found, key
    return str(found[0].data)


def test_the_gate_of_phase_5_shows_the_upsert_that_fails_after_it_with_its_calls_and_fix(app_db):
    runner.migrate(app_db, to=4)  # applied without gates: phase 4 is asked again, then phase 5 is applied
    thread, out = run_in_thread(database=app_db, to=5, approval="manual", backups=False, poll_interval=1,
                                data_docs=False)
    resume_flow_run(paused_run_id(), run_input={"approve": True, "approver": "dba"})
    at_gate_5 = paused_run_id()
    gate = artifact("gate-phase-5")
    resume_flow_run(at_gate_5, run_input={"approve": True, "approver": "dba"})
    thread.join(timeout=300)
    assert out["state"].is_completed(), out["state"].message
    app = f"{database_name(app_db)}_app"
    assert "#### App statements (from pg_stat_statements)\n**1 app statement, about " in gate
    assert " calls a day, fails after this phase:**\n- `INSERT INTO contacts (phone_number, thread_id) VALUES ($1, " \
           "$2) ON CONFLICT (phone_number) DO UPDATE SET thread_id = EXCLUDED.thread_id RETURNING id` " \
           f"(role {app}, {APP_UPSERT_CALLS} calls, about " in gate
    assert "there is no unique or exclusion constraint matching the ON CONFLICT specification. **Fix:** ON CONFLICT " \
           "(user_id, phone_number)" in gate
    assert "**2 change meaning without an error:**" in gate  # the hand-written lookup and the contract's legacy one
    assert "not compared with before this phase" in artifact("app-statements-phase-4")
    phases = out["state"].result()
    assert " 1 breaking, 2 changing meaning, " in phases[-1]["app_statements"]


def test_without_pg_stat_statements_each_gate_says_so_in_one_line_the_log_once_and_the_migration_goes_on(
        legacy_db, caplog):
    phases = run_flow(migrate, database=legacy_db, to=2, approval="auto", backups=False, data_docs=False)
    line = f"app statements not checked: pg_stat_statements is not installed in database {database_name(legacy_db)}"
    assert [True, True] == [phase["app_statements"].startswith(line) for phase in phases]
    for number, phase in enumerate(phases, start=1):
        assert artifact(f"app-statements-phase-{number}") == "#### App statements (from pg_stat_statements)\n" + \
            phase["app_statements"]
    assert 1 == sum(r.getMessage().startswith(line) for r in caplog.records if r.levelname == "WARNING")
