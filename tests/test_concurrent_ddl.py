"""Beside a deploying app: another session creates tables (with rows), columns and indexes every ~50 ms, drops and
alters some of its own, while the phases run (through a CONCURRENTLY build held open, a kill of the runner and a
resume) and while the rollback runs. Only what the migration's own statements made is recorded as its own; the
rollback to 0 keeps every object of the app's with its rows, and nothing of the app's stops a phase."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest
from conftest import eventually
from psycopg import errors, sql

from tenant_migrate import ownership, runner, steps
from tenant_migrate.db import LEGACY_TABLES, connection
from tenant_migrate.faults import KILL_AT_ENV
from tenant_migrate.paths import PROJECT_ROOT

PREFIX = "deploy_"
# kill the runner in phase 7 right after its second index was built, before the build was recorded
KILL_AT = "07_performance_indexes/up/01_create_indexes:built#2"
RUNNER_ENTRY = "import sys; from tenant_migrate import runner; runner.migrate(sys.argv[1])"


class Deploy:
    """The app's deploy: one short DDL transaction every ~50 ms, remembering what it committed."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.tables: dict[str, int] = {}  # table -> its rows
        self.columns: set[tuple[str, str]] = set()  # (table, column), on its own tables and on contacts
        self.indexes: dict[str, str] = {}  # index -> its table
        self.dropped: set[str] = set()
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '100ms'")  # a deploy waits briefly, then tries the next change
            for n in itertools.count():
                if self._stop.is_set():
                    return
                try:
                    with conn.transaction():
                        done = self._change(conn, n)
                    done()
                except (errors.LockNotAvailable, errors.DeadlockDetected):
                    pass
                except psycopg.Error as exc:
                    self.errors.append(f"{n}: {exc}")
                time.sleep(0.05)

    def _change(self, conn: psycopg.Connection, n: int):
        """Make change number n; returns what to remember once it committed."""
        own = sorted(self.tables)
        target = own[n % len(own)] if own else None
        step = n % 8
        if target is None or step in (0, 3, 6):
            table, rows = f"{PREFIX}t{n}", 1 + n % 4
            conn.execute(sql.SQL("CREATE TABLE {} (id bigserial PRIMARY KEY, v text)").format(sql.Identifier(table)))
            conn.execute(sql.SQL("INSERT INTO {} (v) SELECT 'row ' || g FROM generate_series(1, %s) AS g").format(
                sql.Identifier(table)), (rows,))
            return lambda: self.tables.__setitem__(table, rows)
        if step == 1:
            column = f"{PREFIX}c{n}"
            conn.execute(sql.SQL("ALTER TABLE {} ADD COLUMN {} integer DEFAULT {}").format(
                sql.Identifier(target), sql.Identifier(column), sql.Literal(n)))
            return lambda: self.columns.add((target, column))
        if step == 2:
            index = f"{PREFIX}i{n}"
            conn.execute(sql.SQL("CREATE INDEX {} ON {} (v)").format(sql.Identifier(index), sql.Identifier(target)))
            return lambda: self.indexes.__setitem__(index, target)
        if step == 4:  # on a table of the plan's (the legacy tables stay the app's)
            column = f"{PREFIX}c{n}"
            conn.execute(sql.SQL("ALTER TABLE contacts ADD COLUMN {} text").format(sql.Identifier(column)))
            return lambda: self.columns.add(("contacts", column))
        if step == 5:
            index = f"{PREFIX}i{n}"
            conn.execute(sql.SQL("CREATE INDEX {} ON messages (id, status)").format(sql.Identifier(index)))
            return lambda: self.indexes.__setitem__(index, "messages")
        # step 7: the app drops or alters its own objects
        if n % 3 == 0 and len(own) > 3:
            conn.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(target)))
            return lambda: self._forget(target)
        conn.execute(sql.SQL("ALTER TABLE {} ALTER COLUMN v TYPE varchar(100)").format(sql.Identifier(target)))
        return lambda: None

    def _forget(self, table: str) -> None:
        del self.tables[table]
        self.columns = {(t, c) for t, c in self.columns if t != table}
        self.indexes = {i: t for i, t in self.indexes.items() if t != table}
        self.dropped.add(table)

    def __enter__(self) -> Deploy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def app_free(cat: ownership.Catalog) -> ownership.Catalog:
    """The catalog without the deploy's objects and without roles (the tenant roles stay, by design)."""
    return {k: v for k, v in cat.items() if k[0] not in ("role", "membership")
            and not (k[1].startswith(PREFIX) or k[2].startswith(PREFIX) or f" {PREFIX}" in v)}


def legacy_content(conn: psycopg.Connection, columns: dict[str, list[str]]) -> dict[str, str]:
    """A hash of every legacy table's rows over its legacy columns."""
    return {t: conn.execute(sql.SQL("SELECT md5(string_agg(ROW({})::text, ',' ORDER BY id)) FROM {}").format(
        sql.SQL(", ").join(map(sql.Identifier, cols)), sql.Identifier(t))).fetchone()[0]
        for t, cols in columns.items()}


def build_waiting(conn: psycopg.Connection) -> bool:
    return bool(conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                             "application_name = 'tenant-migrate/work' AND query ILIKE '%%INDEX CONCURRENTLY%%' "
                             "AND wait_event_type = 'Lock'").fetchone()[0])


@pytest.mark.slow
def test_a_deploying_app_keeps_every_object_and_row_through_migrate_kill_resume_and_rollback(legacy_db):
    with connection(legacy_db) as conn:
        before = app_free(ownership.catalog(conn))
        columns = {t: [k[2] for k in before if k[0] == "column" and k[1] == t] for t in LEGACY_TABLES}
        content = legacy_content(conn, columns)
    env = {k: v for k, v in os.environ.items() if k != KILL_AT_ENV} | {KILL_AT_ENV: KILL_AT}
    with Deploy(legacy_db) as app, psycopg.connect(legacy_db) as blocker:
        blocker.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        blocker.execute("SELECT 1")  # an old snapshot: the first CONCURRENTLY build waits for it
        killed = subprocess.Popen([sys.executable, "-c", RUNNER_ENTRY, legacy_db], env=env, cwd=PROJECT_ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        with connection(legacy_db) as watch:
            eventually(lambda: build_waiting(watch) or killed.poll() is not None, timeout=60, what="a waiting build")
        assert killed.poll() is None, killed.communicate()[0].decode(errors="replace")[-3000:]
        made = len(app.tables) + len(app.dropped)
        eventually(lambda: len(app.tables) + len(app.dropped) >= made + 3, timeout=30, what="app tables")
        blocker.rollback()  # the build goes on; the app made three tables while it waited
        output = killed.communicate(timeout=180)[0].decode(errors="replace")
        assert -9 == killed.returncode, output[-3000:]
        runner.migrate(legacy_db)  # resumes phase 7, applies phase 8
        during_migration = len(app.tables) + len(app.dropped)
        runner.rollback(legacy_db, 0)
    assert [] == app.errors
    assert during_migration > 20  # the app kept deploying all along
    with connection(legacy_db) as conn:
        after = ownership.catalog(conn)
        kept = {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0]
                for t in app.tables if ("table", "", t) in after}
        assert content == legacy_content(conn, columns)
    assert app.tables == kept
    assert [] == sorted(c for c in app.columns if ("column", *c) not in after)
    assert [] == sorted(i for i in app.indexes if not any(k[0] == "index" and k[2] == i for k in after))
    assert before == app_free(after)


@pytest.mark.parametrize("ours_first", [False, True])
def test_a_grant_and_the_apps_alter_table_of_one_table_wait_for_each_other(legacy_db, ours_first):
    """GRANT locks no table: on PostgreSQL before 17, a GRANT that meets an uncommitted ALTER TABLE of the same table
    (or the other way round) fails with "tuple concurrently updated" once the first commits. The migration's GRANT
    takes a lock of the table first (steps.table_lock), so whichever comes second waits and then succeeds."""
    grant = "GRANT SELECT ON public.contacts TO PUBLIC"
    alter = "ALTER TABLE contacts ADD COLUMN deploy_during_grant text"
    with psycopg.connect(legacy_db) as first, psycopg.connect(legacy_db) as second:
        if ours_first:
            steps._execute(first, grant, alone=True)
        else:
            first.execute(alter)
        failed: list[str] = []

        def then() -> None:
            try:
                with second.transaction():
                    if ours_first:
                        second.execute(alter)
                    else:
                        steps._execute(second, grant, alone=True)
            except psycopg.Error as exc:
                failed.append(str(exc))

        waiting = threading.Thread(target=then)
        waiting.start()
        with connection(legacy_db) as watch:
            eventually(lambda: watch.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                             "AND wait_event_type = 'Lock'").fetchone()[0] > 0, timeout=10,
                       what="the second session waiting")
        first.commit()
        waiting.join(timeout=30)
    assert [] == failed
    with connection(legacy_db) as conn:
        assert conn.execute("SELECT has_table_privilege('public', 'public.contacts', 'SELECT')").fetchone()[0]
        assert conn.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.contacts'::regclass "
                            "AND attname = 'deploy_during_grant'").fetchone()[0] == 1
