"""How often phases 4 and 5 read each tenant table, counted by PostgreSQL itself (pg_stat_user_tables) on a quiet
database: phase 4's one validation of its NOT NULL check proves a clean table, so its sweep is skipped (no batch, not
one index probe) and SET NOT NULL does not scan; phase 5 adds no scan for NOT NULL. A table that holds rows written
with an explicit NULL before phase 4 is swept and validated once more; the app's explicit NULL after the check exists
is refused.
"""

from __future__ import annotations

import psycopg
import pytest

from tenant_migrate import ledger, runner
from tenant_migrate.check import review
from tenant_migrate.db import connection, table_stats
from tenant_migrate.plan import Step, phase
from tenant_migrate.steps import Run, Settings
from tenant_migrate.validation.checkpoints import validate_phase

TABLES = ("contacts", "messages", "orders", "campaigns", "campaign_subscribers")
FOREIGN_KEYS = {"contacts": 2, "messages": 2, "orders": 2, "campaigns": 2, "campaign_subscribers": 1}
SWEEPS = {s.table: s.name for s in phase(4).steps("up", "instant") if "_sweep_" in s.name}


def scans(dsn: str) -> dict[str, tuple[int, int]]:
    """table -> (seq_scan, idx_scan)."""
    with connection(dsn) as conn:
        rows = conn.execute("SELECT relname, seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables "
                            "WHERE schemaname = 'public' AND relname = ANY(%s)", (list(TABLES),)).fetchall()
    return {name: (seq, idx) for name, seq, idx in rows}


def delta(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    return {t: (after[t][0] - before[t][0], after[t][1] - before[t][1]) for t in TABLES}


def flushed(work: psycopg.Connection) -> None:
    """The session's counters are in pg_stat_user_tables once this returns (flushed before it goes idle; an idle
    session otherwise keeps them up to 10 s)."""
    work.execute("SELECT pg_stat_force_next_flush()")
    work.execute("SELECT 1")


def per_step(monkeypatch: pytest.MonkeyPatch, dsn: str) -> dict[str, dict[str, tuple[int, int]]]:
    """step name -> table -> its scans during that step alone (the phase's row counts and checks left out)."""
    found: dict[str, dict[str, tuple[int, int]]] = {}
    run_step = runner.run_step

    def counted(run: Run, step: Step) -> None:
        for conn in (run.work, run.lock_conn):  # the lock session read the rows too (the phase's checks)
            flushed(conn)
        before = scans(dsn)
        run_step(run, step)
        for conn in (run.work, run.lock_conn):
            flushed(conn)
        found[step.name] = delta(before, scans(dsn))

    monkeypatch.setattr(runner, "run_step", counted)
    return found


def test_phases_4_and_5_read_each_clean_table_once_for_its_tenant_ids_and_sweep_only_a_dirty_one(legacy_db,
                                                                                                 monkeypatch):
    runner.migrate(legacy_db, to=3)
    with connection(legacy_db) as conn:  # a writer that named the tenant id with NULL, before phase 4
        conn.execute("INSERT INTO messages (contact_id, user_id) SELECT id, NULL FROM contacts ORDER BY id LIMIT 3")
    refused = []

    def app_writes_null_during_the_sweep(step: str, done: int, total: int) -> None:
        if step == SWEEPS["messages"] and not refused:
            with connection(legacy_db) as app, pytest.raises(psycopg.errors.CheckViolation):
                app.execute("INSERT INTO contacts (phone_number, chatbot_id) VALUES ('+19990000001', NULL)")
            refused.append(step)

    settings = Settings(batch_size=50, progress=app_writes_null_during_the_sweep)
    steps = per_step(monkeypatch, legacy_db)
    four = runner.apply_phase(legacy_db, 4, settings)
    in_four = {t: tuple(sum(d[t][i] for d in steps.values()) for i in (0, 1)) for t in TABLES}
    steps.clear()
    runner.apply_phase(legacy_db, 5, settings)
    with connection(legacy_db) as conn:
        messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
    assert refused == [SWEEPS["messages"]]  # the CHECK refused the app's NULL while the phase still ran
    skipped = {t for t, name in SWEEPS.items() if f"{name}: skipped, nothing left to do" in " ".join(four.notes)}
    assert skipped == set(TABLES) - {"messages"}, four.notes
    for table in set(TABLES) - {"messages"}:
        # the foreign keys' validations and the one of the NOT NULL check; no sweep (not one index probe)
        assert in_four[table] == (FOREIGN_KEYS[table] + 1, 0), (table, in_four)
    # messages: a first validation that stops at a NULL row, the sweep's batches, and a second validation
    seq, idx = in_four["messages"]
    assert seq == FOREIGN_KEYS["messages"] + 2 and idx >= messages // 50, in_four
    # phase 5 proves nothing about NULLs again (phase 4's proof made them NOT NULL): it reads a tenant table only to
    # build an index or to validate a reference
    scanning = {name for name, d in steps.items() if any(d[t] != (0, 0) for t in TABLES)}
    assert scanning and all("_index" in name or "_references" in name for name in scanning), steps


def rows_read(dsn: str) -> dict[str, int]:
    """table -> the rows its scans have read so far (sequential, and fetched through an index)."""
    with connection(dsn) as conn:
        rows = conn.execute("SELECT relname, seq_tup_read + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables "
                            "WHERE schemaname = 'public' AND relname = ANY(%s)", (list(TABLES),)).fetchall()
    return dict(rows)


def test_the_count_after_phase_4_spares_its_suite_and_the_check_before_phase_5_a_read_of_each_tenant_table(
        legacy_db: str) -> None:
    """The flow's count after phase 4 also counts each table's rows off tenant 1 in its one scan: phase 4's suite
    (its tenant checks, and its duplicate checks, which the app's unique keys prove) and the check before phase 5
    then read a few rows of each tenant table at most (Great Expectations' own look at a table), where the suite
    alone reads each whole."""
    runner.migrate(legacy_db, to=4)
    with connection(legacy_db) as conn:
        sizes = dict(zip(TABLES, conn.execute(
            "SELECT " + ", ".join(f"(SELECT count(*) FROM {t})" for t in TABLES)).fetchone(), strict=True))
        snapshot = ledger.snapshot(conn, ledger.latest_run(conn, 4)["id"])
        counted = table_stats(conn, since=snapshot, tenants=True)
        assert counted.tenants == dict.fromkeys(TABLES, (0, 0))
        flushed(conn)
        before = rows_read(legacy_db)
        assert validate_phase(legacy_db, 4, docs=False, counted=counted)["success"]
        assert not review.refusals(runner.check_plan(conn, [phase(5)], Settings(counted=counted)))
        flushed(conn)
        spared = rows_read(legacy_db)
        assert validate_phase(legacy_db, 4, docs=False)["success"]  # standalone: no count to read
    alone = rows_read(legacy_db)
    told = [t for t in TABLES if sizes[t] >= 100]  # tables large enough to tell a read of a few rows from a scan
    assert told and all(spared[t] - before[t] < sizes[t] / 10 for t in told), (before, spared, sizes)
    assert all(alone[t] - spared[t] >= sizes[t] for t in told), (spared, alone, sizes)
