"""flows/staging_dry_run.py: the whole migration rehearsed on a copy, undone, compared; the source untouched."""

import pytest

from flows.staging_dry_run import staging_dry_run
from tenant_migrate import ledger
from tenant_migrate.db import connection, fingerprint, row_counts
from tenant_migrate.plan import load_plan

pytestmark = [pytest.mark.flow, pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def test_the_staging_dry_run_rehearses_everything_and_never_writes_to_the_source(legacy_db, tmp_path):
    with connection(legacy_db) as conn:
        before = (fingerprint(conn), row_counts(conn), ledger.exists(conn))
    state = staging_dry_run(database=legacy_db, backup_dir=str(tmp_path), return_state=True)
    assert state.is_completed(), state.message
    report = state.result()
    assert report["schema_restored"] and report["row_counts_restored"]
    assert list(range(1, len(load_plan()) + 1)) == [row["phase"] for row in report["phases"]]
    with connection(legacy_db) as conn:
        assert before == (fingerprint(conn), row_counts(conn), ledger.exists(conn))
        copies = conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (report["copy"],)).fetchone()[0]
    assert 0 == copies
