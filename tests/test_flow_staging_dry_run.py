"""flows/staging_dry_run.py: the whole migration rehearsed on a copy on the staging server, undone, compared; the
source untouched; production's own cluster only when explicitly allowed; the dump that carried the copy deleted."""

import socket

import pytest
from conftest import APP_UPSERT_CALLS, server_data_dir
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from prefect.client.schemas.sorting import ArtifactSort

from tenant_migrate import demo, embedded, ledger
from tenant_migrate.db import catalog_shape, connection, row_counts
from tenant_migrate.dsn import database_name, with_database
from tenant_migrate.flows.staging_dry_run import staging_dry_run
from tenant_migrate.plan import default_target

pytestmark = [pytest.mark.flow, pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def source_state(dsn: str) -> tuple:
    with connection(dsn) as conn:
        return catalog_shape(conn), row_counts(conn), ledger.exists(conn)


def databases(dsn: str, like: str) -> list[str]:
    with connection(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (like,))]


@pytest.fixture(scope="module")
def staging_server():
    """A second PostgreSQL cluster: the staging server, in a Prefect Secret block as the deployment has it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with server_data_dir("tm-test-staging-") as pgdata:
        yield embedded.start(pgdata, port)
        embedded.stop(pgdata)


def test_the_staging_dry_run_rehearses_everything_and_never_writes_to_the_source(legacy_db, tmp_path):
    before = source_state(legacy_db)
    state = staging_dry_run(database=legacy_db, allow_same_cluster=True, backup_dir=str(tmp_path), return_state=True)
    assert state.is_completed(), state.message
    report = state.result()
    assert report["schema_restored"] and report["row_counts_restored"]
    assert list(range(1, default_target() + 1)) == [row["phase"] for row in report["phases"]]
    assert before == source_state(legacy_db)
    assert [] == databases(legacy_db, report["copy"])
    assert [] == list(tmp_path.iterdir())  # the dump that made the copy is gone


def test_the_copy_goes_to_the_staging_server_of_its_secret_block(legacy_db, staging_server, tmp_path):
    Secret(value=with_database(staging_server, "postgres")).save("tm-test-staging", overwrite=True)
    before = source_state(legacy_db)
    state = staging_dry_run(database=legacy_db, staging="tm-test-staging", backup_dir=str(tmp_path), keep_copy=True,
                            return_state=True)
    assert state.is_completed(), state.message
    copy = state.result()["copy"]
    try:
        assert ([copy], []) == (databases(staging_server, copy), databases(legacy_db, copy))
        assert before == source_state(legacy_db)
        assert [] == list(tmp_path.iterdir())
    finally:
        demo.drop_database(staging_server, copy)


def test_a_copy_onto_productions_own_cluster_is_refused_unless_allowed(legacy_db, tmp_path):
    before = source_state(legacy_db)
    state = staging_dry_run(database=legacy_db, backup_dir=str(tmp_path), return_state=True)
    assert state.is_failed()
    assert "the copy would go onto the cluster of " in state.message
    assert "give the dry run a staging server (staging: a DSN or a Prefect Secret block), or allow it explicitly" \
        in state.message
    assert before == source_state(legacy_db)
    assert [] == list(tmp_path.iterdir()) and [] == databases(legacy_db, "%dry_run%")


def test_the_dry_run_reports_the_upsert_breaking_at_phase_5_and_the_lookup_changing_meaning(app_db, tmp_path):
    report = staging_dry_run(database=app_db, allow_same_cluster=True, backup_dir=str(tmp_path),
                             return_state=True).result()
    app = f"{database_name(app_db)}_app"
    lines = report["app_statements"]
    upsert = ("breaks at phase 5 05_update_constraints: INSERT INTO contacts (phone_number, thread_id) VALUES ($1, $2) "
              f"ON CONFLICT (phone_number)… (role {app}, {APP_UPSERT_CALLS} calls, about ")
    assert [x for x in lines if x.startswith(upsert)]
    assert [x for x in lines if x.startswith("changes meaning at phase 5 05_update_constraints: SELECT id, thread_id "
                                             "FROM contacts WHERE phone_number = $1")]
    assert 1 == len([x for x in lines if x.startswith("breaks ")])  # the backend contract's statements: none
    assert lines[-1].startswith("through phases 1-8: 1 break, 3 changes of meaning, 0 not checked, of 17 app "
                                "statements (about ")
    with get_client(sync_client=True) as client:
        key = ArtifactFilter(key=ArtifactFilterKey(any_=["dry-run-app-statements"]))
        newest = client.read_artifacts(artifact_filter=key, sort=ArtifactSort.CREATED_DESC, limit=1)
    assert "breaks at phase 5" in str(newest[0].data)
