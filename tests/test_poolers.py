"""A connection pooler between the migration and PostgreSQL (tenant_migrate/pooler.py, docs/poolers.md), with real
PgBouncers (tests/pgbouncer.py): in transaction or statement mode every entry point refuses it at once, changes
nothing and leaves no lock behind; in session mode the migration works; and what the app must know about psycopg's
prepared statements through a transaction pool."""

from __future__ import annotations

import re
import time

import psycopg
import pytest
import typer
from conftest import snapshot
from typer.testing import CliRunner

from tenant_migrate import ledger, lock, runner
from tenant_migrate.acceptance.checklist import run_checklist
from tenant_migrate.backup import restore
from tenant_migrate.cli import plan as plan_commands
from tenant_migrate.compat import scratch
from tenant_migrate.db import connection, scalar
from tenant_migrate.errors import PoolerRefused

REFUSED = (r"is PgBouncer [\d.]+ in transaction pooling mode, not PostgreSQL itself: each transaction may run on "
           r"another server connection, .* give the migration a direct DSN \(--dsn .*\(docs/poolers.md\)$")


def test_a_transaction_or_statement_pooler_is_refused_at_once_and_changes_nothing(app_db, pg_server, pgbouncer):
    """app_db: the app's statements are recorded, so the compatibility check gets as far as its scratch copy."""
    before = snapshot(app_db)
    pooled = pgbouncer.dsn(app_db, "transaction")
    started = time.monotonic()
    for entry_point in (lambda: runner.migrate(pooled), lambda: runner.rollback(pooled, 0),
                        lambda: runner.check(pooled), lambda: runner.apply_phase(pooled, 1),
                        lambda: scratch.run(pooled),  # compat, and the app-statement part of check
                        lambda: restore.check_copy_server(pooled, pg_server, allow_same_cluster=True),  # dry run
                        lambda: run_checklist(pooled, load_seconds=0.1)):  # before it reads which phases are applied
        with pytest.raises(PoolerRefused, match=REFUSED) as refused:
            entry_point()
        assert "transaction" == refused.value.mode
    with pytest.raises(PoolerRefused, match=r"is PgBouncer in statement pooling mode, not PostgreSQL") as refused:
        runner.migrate(pgbouncer.dsn(app_db, "statement"))  # its admin console refuses us: named without version
    assert "statement" == refused.value.mode
    app = typer.Typer()
    plan_commands.register(app)
    out = CliRunner().invoke(app, ["check", "--dsn", pooled])
    assert (1, 1) == (out.exit_code, len(out.stderr.splitlines())), out.output
    assert re.match(r"error: postgres@127\.0\.0\.1:\d+/tm_test_\w+ " + REFUSED, out.stderr.strip()), out.stderr
    assert time.monotonic() - started < 10  # at once: not after a LockLost 15 s into phase 1 (issue 23)
    assert before == snapshot(app_db)
    with connection(app_db) as conn:
        assert not ledger.exists(conn)
        assert 0 == scalar(conn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
    assert ["applied"] == [o.status for o in runner.migrate(app_db, to=1)]  # directly, right after: no lock left


def test_the_migration_works_through_a_session_pooler(legacy_db, pgbouncer):
    pooled = pgbouncer.dsn(legacy_db, "session")
    assert [] == [f for f in runner.check(pooled)[1] if f.verdict == "refuse"]
    assert ["applied", "applied"] == [o.status for o in runner.migrate(pooled, to=2)]
    assert ["applied", "applied", "pending"] == [r["state"] for r in runner.status(pooled)[:3]]
    assert ["rolled_back", "rolled_back"] == [o.status for o in runner.rollback(pooled, 0)]
    with connection(legacy_db) as conn:
        assert lock.lock_is_free(conn)  # released explicitly, and the pool's DISCARD ALL would have too


def test_psycopg_prepared_statements_must_be_off_through_a_transaction_pooler(legacy_db, pgbouncer):
    """psycopg prepares a statement on the server from its 5th execution on. PgBouncer before 1.21 (Debian 12 ships
    1.18) does not carry prepared statements over to another server connection: a client whose next transaction
    runs on another one fails. With prepare_threshold=None, as docs/poolers.md says, it does not."""
    pooled = pgbouncer.dsn(legacy_db, "transaction")
    query = "SELECT count(*) FROM contacts WHERE id > %s"
    with psycopg.connect(pooled, autocommit=True) as default, psycopg.connect(pooled, autocommit=True) as other, \
            psycopg.connect(pooled, autocommit=True, prepare_threshold=None) as unprepared:
        for _ in range(6):  # the same server connection each time: PgBouncer hands out the last one released
            default.execute(query, (0,))
            unprepared.execute(query, (0,))
        with other.transaction():  # holds that server connection: the next statements run on another one
            other.execute("SELECT 1")
            if pgbouncer.version() < (1, 21):
                with pytest.raises(psycopg.errors.InvalidSqlStatementName):
                    default.execute(query, (0,))
            assert unprepared.execute(query, (0,)).fetchone()[0] > 0
