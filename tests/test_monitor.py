"""flows/monitor.py: the guard beside every phase of the flows. The gate shows its figures and ticks "Monitoring
systems active" only when it watched the whole phase; each phase gets an artifact and a plot beside the Data Docs;
the ledger keeps the figures and `status` shows them; the ceiling fails the run saying why, and the re-run resumes."""

from __future__ import annotations

import psycopg
import pytest
from conftest import add_messages, caught_up, eventually, paused_run_id, replay, run_in_thread
from prefect import resume_flow_run
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from psycopg import sql
from typer.testing import CliRunner

from tenant_migrate import ledger, runner
from tenant_migrate.cli.main import app
from tenant_migrate.db import WORK_APPLICATION_NAME, connection, scalar
from tenant_migrate.guard.store import latest
from tenant_migrate.steps import Settings

pytestmark = [pytest.mark.flow, pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]


def artifact(key: str) -> str:
    """The newest version of the artifact `key`, as stored."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
    assert found, f"no artifact {key}"
    return str(max(found, key=lambda a: a.created).data)


def guarded_runs(dsn: str) -> list[tuple]:
    with connection(dsn) as conn:
        return conn.execute("SELECT phase, direction, whole_phase, run_id IS NOT NULL, stopped IS NOT NULL "
                            "FROM tenant_migrate.guard_figures ORDER BY id").fetchall()


def test_the_gate_shows_the_guards_figures_and_ticks_monitoring_when_it_watched_the_whole_phase(legacy_db):
    thread, out = run_in_thread(database=legacy_db, to=1, approval="manual", backups=False, poll_interval=1,
                                data_docs=False)
    run_id = paused_run_id()
    question = artifact("gate-phase-1")
    resume_flow_run(run_id, run_input={"approve": True, "approver": "dba"})
    thread.join(timeout=300)
    assert out["state"].is_completed(), out["state"].message
    assert "- [x] Monitoring systems active" in question
    assert "#### Guard: phase 1 `01_create_core_tables`" in question and "ran for the whole phase" in question
    assert "| `01_create_core_tables/up/01_users` |" in question  # the figures per step
    assert "longest app wait on the migration" in artifact("guard-phase-1")
    assert artifact("guard-phase-1-plot").startswith("[lag and app waits")
    with connection(legacy_db) as conn:
        seen = latest(conn)[1]
        assert ledger.latest_run(conn, 1)["id"] == seen["run_id"]
    assert [(1, "up", True, True, False)] == guarded_runs(legacy_db)
    assert ["preflight", "backup", "apply"] == [s["step"] for s in seen["figures"]["steps"]][:3]
    with open(seen["plot_path"], "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"
    status = CliRunner().invoke(app, ["status", "--dsn", legacy_db])
    assert 0 == status.exit_code, status.output
    assert "guard: watched the whole phase, no app waits, 0 cancelled, no standby, WAL" in status.output


def test_the_apps_values_are_nowhere_in_the_gates_artifacts_ledger_or_logs(legacy_db, caplog):
    """A customer's phone number in two app statements while phase 2 runs: a report's open transaction (the oldest),
    and an INSERT that waits on phase 2's ALTER TABLE (the guard cancels the migration's statement for it). The gate,
    every artifact, the ledger and the logs show the statements, never the number: as pg_stat_statements keeps them
    (the report's: the app ran it before, in lower case) or redacted (the INSERT: still waiting to be parsed, it has
    no query id yet)."""
    phone, thread = "+447700900999", "thread-of-a-customer"
    report_query = f"SELECT count(*) FROM contacts WHERE phone_number <> '{phone}'"
    with connection(legacy_db) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
        conn.execute("select count(*) from contacts where phone_number <> '+15550000001'")
    with psycopg.connect(legacy_db, application_name="app-report") as report:
        report.execute(report_query)  # holds ACCESS SHARE: phase 2's ALTER TABLE waits
        flow, out = run_in_thread(database=legacy_db, to=2, approval="manual", backups=False, poll_interval=1,
                                  data_docs=False, lock_timeout_ms=1500)
        resume_flow_run(paused_run_id(), run_input={"approve": True, "approver": "dba"})
        eventually(lambda: waiting_on_a_lock(legacy_db), what="phase 2 waiting for its lock")
        with psycopg.connect(legacy_db, autocommit=True, application_name="app-worker") as app_session:
            app_session.execute(f"INSERT INTO contacts (phone_number, thread_id) VALUES ('{phone}', '{thread}')")
        report.commit()
        at_gate_2 = paused_run_id()
        gate = artifact("gate-phase-2")
        resume_flow_run(at_gate_2, run_input={"approve": True, "approver": "dba"})
        flow.join(timeout=300)
    assert out["state"].is_completed(), out["state"].message
    assert "`select count(*) from contacts where phone_number <> $1`" in gate, gate  # pg_stat_statements' text
    assert "`INSERT INTO contacts (phone_number, thread_id) VALUES ($1, $2)`" in gate  # redacted
    with get_client(sync_client=True) as client:
        artifacts = " ".join(f"{a.data} {a.description}" for a in client.read_artifacts())
        logs = " ".join(entry.message for entry in client.read_logs())
    with connection(legacy_db) as conn:
        tables = [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables "
                                             "WHERE table_schema = 'tenant_migrate' AND table_type = 'BASE TABLE'")]
        stored = " ".join(str(scalar(conn, sql.SQL("SELECT coalesce(string_agg(to_jsonb(t)::text, ' '), '') FROM "
                                                   "tenant_migrate.{} AS t").format(sql.Identifier(table))))
                          for table in tables)
    assert "guard_figures" in tables and "VALUES ($1, $2)" in stored
    for where, text in {"gate": gate, "artifacts": artifacts, "ledger": stored, "logs": logs + caplog.text}.items():
        assert phone not in text and thread not in text, where


def waiting_on_a_lock(dsn: str) -> bool:
    with connection(dsn) as conn:
        return bool(scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                                 "AND wait_event_type = 'Lock'", (WORK_APPLICATION_NAME,)))


def test_a_phase_only_validated_again_is_not_ticked_and_its_rollback_is_watched(legacy_db):
    runner.migrate(legacy_db, to=1)  # applied by the plain runner: nobody watched its apply
    thread, out = run_in_thread(database=legacy_db, to=1, approval="manual", backups=False, poll_interval=1,
                                data_docs=False)
    run_id = paused_run_id()
    question = artifact("gate-phase-1")
    resume_flow_run(run_id, run_input={"approve": False, "approver": "dba", "comment": "not watched"})
    thread.join(timeout=300)
    assert out["state"].is_failed()
    assert "- [ ] Monitoring systems active" in question and "did **not** watch the whole phase" in question
    assert [(1, "up", False, True, False), (1, "down", True, True, False)] == guarded_runs(legacy_db)


def test_the_ceiling_fails_the_run_saying_why_and_the_rerun_resumes(legacy_db, streaming_standby):
    runner.migrate(legacy_db, to=3, settings=Settings(backfill="batched"))  # phase 4 then backfills in batches
    add_messages(legacy_db, 5_000)
    eventually(lambda: caught_up(legacy_db, streaming_standby.name), what="standby caught up")
    replay(streaming_standby.dsn, "pause")
    with connection(legacy_db) as conn:  # WAL the paused standby will not replay: 600 kB behind, over 0.5 MB
        conn.execute("SELECT pg_logical_emit_message(false, 'guard-test', repeat('x', 600000))")
    cli = CliRunner()
    stopped = cli.invoke(app, ["migrate", "--dsn", legacy_db, "--to", "4", "--approval", "auto", "--no-backup",
                               "--no-docs", "--lag-budget-mb", "0.5", "--max-pause-s", "1",
                               "--budget-ceiling", "1000000"])
    assert 1 == stopped.exit_code
    last = stopped.output.strip().splitlines()[-1]
    assert last.startswith("error: phase 4 04_backfill_tenant_ids applying at step 01_contacts_default failed: "
                           "guard stopped the phase: paused 1 s, longer than the 1 s allowed: standby "
                           f"{streaming_standby.name}@127.0.0.1 is"), last
    assert last.endswith("Progress is kept: run again to resume, or roll back"), last
    assert (4, "up", True, True, True) == guarded_runs(legacy_db)[-1]
    replay(streaming_standby.dsn, "resume")
    resumed = cli.invoke(app, ["migrate", "--dsn", legacy_db, "--to", "4", "--approval", "auto", "--no-backup",
                               "--no-docs"])  # the default budgets: a 10,000-row batch writes more than 2.5 MB
    assert 0 == resumed.exit_code, resumed.output
    with connection(legacy_db) as conn:
        run = ledger.latest_run(conn, 4)
    assert ("applied", True) == (run["status"], run["resumed_from"] is not None)


def test_a_bad_budget_is_one_line_before_anything_runs(legacy_db):
    result = CliRunner().invoke(app, ["migrate", "--dsn", legacy_db, "--approval", "auto", "--lag-budget-s", "0"])
    assert (1, "error: the replica-lag budget must be above 0 s, not 0.0: give a positive value (see "
               "`tenant-migrate migrate --help`)\n") == (result.exit_code, result.output)
    with connection(legacy_db) as conn:
        assert not ledger.exists(conn)


def test_migrate_and_rollback_hand_every_guard_budget_from_the_command_to_the_guard(legacy_db):
    """Each budget option of both commands reaches the guard beside the phase (the figures in the ledger keep the
    budgets they were judged by): a budget a command took and its flow dropped would show its default here."""
    given = {"lock_wait_ms": 777, "lag_s": 7.5, "lag_mb": 77.0, "ceiling": 7.0, "max_pause_s": 77.0,
             "app_latency_ms": 7.0}
    options = ["--lock-wait-budget-ms", "777", "--lag-budget-s", "7.5", "--lag-budget-mb", "77", "--budget-ceiling",
               "7", "--max-pause-s", "77", "--app-latency-budget-ms", "7"]
    cli = CliRunner()
    for command in (["migrate", "--to", "1", "--no-docs"], ["rollback", "--to", "0"]):
        result = cli.invoke(app, [*command, "--dsn", legacy_db, "--approval", "auto", "--no-backup", *options])
        assert 0 == result.exit_code, result.output
    with connection(legacy_db) as conn:
        judged_by = conn.execute("SELECT direction, figures->'budgets' FROM tenant_migrate.guard_figures "
                                 "ORDER BY id").fetchall()
    assert [("up", given), ("down", given)] == [(d, {k: b[k] for k in given}) for d, b in judged_by]
