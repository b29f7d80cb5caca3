"""Crash anywhere: the migration is SIGKILLed (or its connections are terminated by the server) at named
points across every phase, then a plain re-run must finish it with nothing lost.

Each point runs the migration in a subprocess: the runner through a one-line Python entry (fast), or
the `tenant-migrate migrate` command (the Prefect flow, against one shared test API) for the points
only the flow has: backups, between apply and validate, the approval gate. A point kills either from
inside (tenant_migrate/faults.py: $TENANT_MIGRATE_KILL_AT names a checkpoint) or from outside, when the test
sees a condition in the server (pg_dump waiting, a CONCURRENTLY build waiting, a backfill batch
waiting on a row lock, a run paused in the Prefect API). After the kill: `status` must explain a
stale "running" run; the re-run must succeed; then row counts equal before plus what a legacy writer
was acknowledged, no NULL tenant id, no invalid index, the schema of a clean migration, a consistent
ledger, and the advisory lock free. The table of outcomes goes to reports/faults.md.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
from conftest import clone_legacy, resume_gate
from psycopg import sql

from tenant_migrate import demo, ledger, lock, ownership, runner
from tenant_migrate import fingerprint as content
from tenant_migrate.db import LEGACY_TABLES, catalog_shape, connection, row_counts
from tenant_migrate.dsn import database_name, with_database
from tenant_migrate.faults import KILL_AT_ENV
from tenant_migrate.paths import PROJECT_ROOT
from tenant_migrate.plan import Step, default_target, load_plan, phase

pytestmark = pytest.mark.faults

BATCH = 100  # the CLI's minimum: 50 batches of messages at the test scale
RUNNER_ENTRY = ("import logging, sys; from tenant_migrate import runner; "
                "logging.basicConfig(level=logging.INFO, format='%(message)s'); "
                "runner.migrate(sys.argv[1], settings=runner.Settings(batch_size=int(sys.argv[2]), "
                "backfill=sys.argv[3]))")
TENANT_TABLES = ("contacts", "messages", "orders", "campaigns")
RUN_TIMEOUT_S = 120
OUTCOMES: list[dict[str, str]] = []


# --- the points -----------------------------------------------------------------------------------


def step(number: int, pick: Callable[[Step], bool], last: bool = False) -> Step:
    """A step of phase `number` chosen by what it does, not by its file name."""
    steps = [s for s in phase(number).steps("up") if pick(s)]
    assert steps, f"phase {number} has no such step"
    return steps[-1] if last else steps[0]


def at(s: Step, where: str) -> str:
    return f"{s.phase}/up/{s.name}:{where}"


def concurrent(s: Step) -> bool:
    return s.mode == "autocommit" and "CONCURRENTLY" in s.sql.upper()


def backfill(table: str) -> Step:
    """Phase 4's batched backfill of a table (the batched way)."""
    return step(4, lambda s: s.mode == "batched" and s.table == table and s.backfill == "batched")


@dataclass
class Point:
    name: str
    how: str
    kill_at: str | None = None  # a tenant_migrate/faults.py checkpoint
    trigger: str | None = None  # outside: "sigkill", "terminate-all", "terminate-lock", "terminate-build"
    when: str = ""  # the condition the trigger waits for: "build-waiting", "batch-waiting", "dump-waiting", "paused"
    before: int = 0  # phases applied by the runner before the run that is killed
    into_backfill: bool = False  # and phase `before + 1` interrupted at its first batch (its defaults are set)
    writer: bool = False
    flow_to: int | None = None  # run `tenant-migrate migrate --to N` (the flow) instead of the runner
    flow_args: tuple[str, ...] = ("--no-backup",)
    expect_rc: tuple[int, ...] = (-signal.SIGKILL,)
    way: str = "instant"  # the way through phases 2-4
    notes: list[str] = field(default_factory=list)


def points() -> list[Point]:
    last_phase = default_target()
    last_step = phase(last_phase).steps("up")[-1]
    messages = backfill("messages")
    return [
        Point("phase 1, before its first step", "checkpoint", at(phase(1).steps("up")[0], "before")),
        Point("phase 1, first step committed", "checkpoint", at(phase(1).steps("up")[0], "done")),
        Point("phase 2, tenant columns added with DEFAULT 1", "checkpoint",
              at(step(2, lambda s: s.backfill == "instant"), "done"), writer=True),
        Point("phase 2, after its CONCURRENTLY index", "checkpoint", at(step(2, concurrent), "done")),
        Point("phase 2, its index built, not yet recorded as the migration's", "checkpoint",
              at(step(2, concurrent), "built")),
        Point("phase 4, foreign keys added NOT VALID", "checkpoint",
              at(step(4, lambda s: "foreign_keys" in s.name), "done"), writer=True),
        Point("phase 4, before an FK VALIDATE", "checkpoint", at(step(4, lambda s: "validate" in s.name), "before")),
        Point("phase 3, before the admin user", "checkpoint", at(phase(3).steps("up")[0], "before"), writer=True),
        Point("batched way: phase 4, tenant defaults set", "checkpoint", at(phase(4).steps("up", "batched")[0], "done"),
              writer=True, way="batched"),
        Point("batched way: phase 4, contacts batch 1 committed", "checkpoint",
              at(backfill("contacts"), "batch-committed#1"), writer=True, way="batched"),
        Point("batched way: phase 4, messages batch 20 committed", "checkpoint", at(messages, "batch-committed#20"),
              writer=True, way="batched"),
        Point("batched way: phase 4, messages batch 7 written, not committed", "checkpoint",
              at(messages, "batch-uncommitted#7"), way="batched"),
        Point("batched way: phase 4, last backfill done, run not finished", "checkpoint",
              at(backfill("campaigns"), "done"), way="batched"),
        Point("phase 4, the tenant ids proven (checks validated), not yet NOT NULL", "checkpoint",
              at(step(4, lambda s: s.name.endswith("_validate_not_null_checks")), "done"), writer=True),
        Point("phase 5, before the first CONCURRENTLY unique", "checkpoint", at(step(5, concurrent), "before")),
        Point("phase 5, a unique index built, not yet recorded as the migration's", "checkpoint",
              at(step(5, concurrent), "built")),
        Point("phase 5, before ADD CONSTRAINT USING INDEX", "checkpoint",
              at(step(5, lambda s: "USING INDEX" in s.sql.upper()), "before")),
        Point("phase 5, composite references added NOT VALID, the app's still there", "checkpoint",
              at(step(5, lambda s: s.name.endswith("_tenant_references")), "done"), writer=True),
        Point("phase 5, last step done, run not finished", "checkpoint",
              at(phase(5).steps("up")[-1], "done")),
        Point("phase 6, before the api_keys table", "checkpoint",
              at(step(6, lambda s: "api_keys" in s.name), "before")),
        Point("phase 7, before its index builds", "checkpoint", at(phase(7).steps("up")[0], "before")),
        Point(f"phase {last_phase}, last step done, run not finished", "checkpoint", at(last_step, "done")),
        Point("phase 5, CONCURRENTLY unique waiting for an old snapshot", "SIGKILL from outside", trigger="sigkill",
              when="build-waiting", before=4, writer=True),
        Point("phase 7, CONCURRENTLY index waiting for an old snapshot", "pg_terminate_backend of the build",
              trigger="terminate-build", when="build-waiting", before=6, expect_rc=(1,)),
        Point("phase 2, CONCURRENTLY index waiting for an old snapshot", "pg_terminate_backend of all its sessions",
              trigger="terminate-all", when="build-waiting", before=1, expect_rc=(1,)),
        Point("batched way: phase 4, messages batch waiting on a row lock", "pg_terminate_backend of all its sessions",
              trigger="terminate-all", when="batch-waiting", before=3, into_backfill=True, writer=True,
              expect_rc=(1,), way="batched"),
        Point("batched way: phase 4, messages batch waiting on a row lock",
              "pg_terminate_backend of the lock session only", trigger="terminate-lock", when="batch-waiting",
              before=3, into_backfill=True, expect_rc=(1,), way="batched"),
        Point("flow: backup of phase 1, pg_dump waiting for a lock", "SIGKILL of the process group from outside",
              trigger="sigkill", when="dump-waiting", flow_to=1, flow_args=("--backup-dir", "{backups}"), writer=True),
        Point("flow: backup of phase 1 dumped, manifest not written", "checkpoint", "backup:phase1:dumped",
              flow_to=1, flow_args=("--backup-dir", "{backups}")),
        Point("flow: phase 1 applied, not yet validated", "checkpoint", "phase1:applied", flow_to=1),
        Point("flow: phase 1 paused for approval", "SIGKILL from outside", trigger="sigkill", when="paused",
              flow_to=1, flow_args=("--no-backup", "--approval", "manual")),
    ]


POINTS = points()


# --- fixtures and helpers -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def migrated(pg_server: str, legacy_template: str) -> Iterator[str]:
    """The name of a database migrated without interruption, for the module (a template)."""
    dsn = clone_legacy(pg_server, legacy_template)
    try:
        runner.migrate(dsn)
        yield database_name(dsn)
    finally:
        demo.drop_database(pg_server, database_name(dsn))


@pytest.fixture(scope="module")
def clean_schema(pg_server: str, migrated: str) -> list[tuple]:
    """The public schema after an uninterrupted migration: what every recovered run must end with."""
    with connection(with_database(pg_server, migrated)) as conn:
        return catalog_shape(conn)


@pytest.fixture(scope="module", autouse=True)
def start_prefect_early(request) -> None:
    """Start the Prefect server of the flow points now, so that its start-up overlaps the runner points."""
    if any("flow:" in item.name for item in request.session.items):
        request.getfixturevalue("prefect_server")


@pytest.fixture(scope="module", autouse=True)
def faults_report() -> Iterator[None]:
    yield
    if OUTCOMES:
        write_report(PROJECT_ROOT / "reports" / "faults.md")


def write_report(path: Path) -> None:
    columns = ["#", "point", "how killed", "after the kill (`status`)", "re-run", "checks", "notes"]
    lines = [f"# Fault injection: {len(OUTCOMES)} kill points",
             "",
             f"Generated by `tests/test_faults.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Checks after the re-run: "
             "row counts = before + the legacy writer's acknowledged rows (where a writer ran), no NULL tenant id, "
             "no invalid index, public schema identical to an uninterrupted migration, ledger consistent "
             "(latest run of every phase applied, all its steps done, nothing left running, every interrupted "
             "run explained and resumed), advisory lock free.",
             "",
             "| " + " | ".join(columns) + " |",
             "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row.get(c, "").replace("|", "/") for c in columns) + " |" for row in OUTCOMES]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n" + "\n".join(lines))


class LegacyWriter:
    """The legacy backend: a contact and its first message per transaction, counted once committed."""

    def __init__(self, dsn: str) -> None:
        self.dsn, self.acknowledged, self.failures = dsn, 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            for n in itertools.count(1):
                if self._stop.is_set():
                    return
                try:
                    with conn.transaction():
                        cid = conn.execute("INSERT INTO contacts (phone_number, thread_id) VALUES (%s, %s) "
                                           "RETURNING id", (f"+1888{n:07d}", f"fault-thread-{n}")).fetchone()[0]
                        conn.execute("INSERT INTO messages (contact_id, message_id, direction, message_type, "
                                     "content_text, status, sent_at) VALUES (%s, %s, 'incoming', 'text', 'hi', "
                                     "'delivered', NOW())", (cid, f"wamid.fault.{n}"))
                    self.acknowledged += 1
                except psycopg.Error as exc:
                    self.failures.append(str(exc))
                time.sleep(0.01)

    def __enter__(self) -> LegacyWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextlib.contextmanager
def blocker(dsn: str, point: Point) -> Iterator[dict]:
    """What holds the migration still long enough to be hit from outside: an open transaction of the
    application, ended by state["release"]() (or at the end)."""
    state: dict = {"release": lambda: None}
    if point.when in ("", "paused"):
        yield state
        return
    with psycopg.connect(dsn) as conn:
        state["release"] = conn.rollback
        if point.when == "build-waiting":  # CREATE INDEX CONCURRENTLY waits for older snapshots to end
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            conn.execute("SELECT 1")
        elif point.when == "batch-waiting":  # one message row locked by a long application transaction
            lo, hi = conn.execute("SELECT min(id), max(id) FROM messages").fetchone()
            state["locked_id"] = conn.execute("SELECT id FROM messages WHERE id >= %s ORDER BY id LIMIT 1 FOR UPDATE",
                                              ((lo + hi) // 2,)).fetchone()[0]
        elif point.when == "dump-waiting":  # pg_dump waits for its ACCESS SHARE lock on every table
            conn.execute("LOCK TABLE fault_blocker.held IN ACCESS EXCLUSIVE MODE")
        try:
            yield state
        finally:
            conn.rollback()


def condition_seen(conn: psycopg.Connection, point: Point, state: dict) -> list[int] | None:
    """The backend pids to act on once the point's condition holds, else None."""
    db = conn.info.dbname
    if point.when == "build-waiting":
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = "
                            "'tenant-migrate/work' AND query ILIKE '%%INDEX CONCURRENTLY%%' "
                            "AND wait_event_type = 'Lock'", (db,)).fetchall()
    elif point.when == "dump-waiting":
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                            "AND application_name = 'tenant-migrate/backup' AND wait_event_type = 'Lock'",
                            (db,)).fetchall()
    elif point.when == "batch-waiting":
        reached = conn.execute("SELECT max(p.position) FROM tenant_migrate.step_progress AS p WHERE p.step = %s",
                               (backfill("messages").name,)).fetchone()[0] if ledger.exists(conn) else None
        rows = [(0,)] if reached is not None and reached > state["locked_id"] - BATCH else []
    elif point.when == "paused":
        parent = paused_run(conn, state["api"])
        rows = [(parent,)] if parent and parent != state.get("killed_run") else []
    else:
        rows = []
    return [r[0] for r in rows] or None


def paused_run(conn: psycopg.Connection, api: str) -> str | None:
    """The `migrate` run paused at phase 1's gate, if it is: the phase subflow wrote its own flow run id to
    the ledger, and the gate pauses its parent."""
    run = ledger.latest_run(conn, 1, "up") if ledger.exists(conn) else None
    if not run or not run["flow_run_id"]:
        return None
    parent_task = httpx.get(f"{api}/flow_runs/{run['flow_run_id']}").json()["parent_task_run_id"]
    parent = httpx.get(f"{api}/task_runs/{parent_task}").json()["flow_run_id"]
    return parent if "PAUSED" == httpx.get(f"{api}/flow_runs/{parent}").json()["state"]["type"] else None


def act(conn: psycopg.Connection, point: Point, proc: subprocess.Popen, pids: list, api: str) -> None:
    db = conn.info.dbname
    if point.trigger == "approve":  # the operator answers the gate the re-run asks again
        resume_gate(api, pids[0], {"approve": True, "approver": "operator after the crash"})
    elif point.trigger == "sigkill":
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and its children (pg_dump): a pod eviction
    elif point.trigger == "terminate-build":
        for pid in pids:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    elif point.trigger == "terminate-all":
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                     "AND application_name LIKE 'tenant-migrate%%' AND pid <> pg_backend_pid()", (db,))
    elif point.trigger == "terminate-lock":
        lock_pid = conn.execute("SELECT backend_pid FROM tenant_migrate.phase_runs ORDER BY id DESC LIMIT 1"
                                ).fetchone()[0]
        conn.execute("SELECT pg_terminate_backend(%s)", (lock_pid,))
        time.sleep(0.3)
        if lock.lock_is_free(conn) and proc.poll() is None:
            point.notes.append("runner still alive without its advisory lock until its next ledger write")


def command(point: Point, dsn: str, backups: Path) -> list[str]:
    if point.flow_to is None:
        return [sys.executable, "-c", RUNNER_ENTRY, dsn, str(BATCH), point.way]
    args = [a.format(backups=backups) for a in point.flow_args]
    approval = [] if "--approval" in args else ["--approval", "auto"]
    return [str(Path(sys.executable).with_name("tenant-migrate")), "migrate", "--dsn", dsn, "--to",
            str(point.flow_to), "--no-docs", "--batch-size", str(BATCH), *approval, *args]


def stop_at_first_batch(step: str, done: int, total: int) -> None:
    raise KeyboardInterrupt  # the runner marks its run interrupted, as Ctrl-C would


def run(cmd: list[str], env: dict[str, str], log: Path, point: Point | None = None, dsn: str = "",
        state: dict | None = None) -> tuple[int, bool]:
    """Run the migration; with a point that acts from outside, act when its condition holds.
    Returns the exit code and whether it acted."""
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        deadline, acted = time.monotonic() + RUN_TIMEOUT_S, False
        try:
            with connection(dsn) if point and point.trigger else contextlib.nullcontext() as conn:
                while proc.poll() is None and time.monotonic() < deadline:
                    if conn is not None and not acted and (pids := condition_seen(conn, point, state)):
                        if point.when == "batch-waiting":
                            time.sleep(0.3)  # inside its lock_timeout retries
                        act(conn, point, proc, pids, state["api"])
                        acted, state["acted_on"] = True, pids
                        state["release"]()  # the application's transaction ends; a live runner goes on
                    time.sleep(0.02)
            return proc.wait(timeout=max(1.0, deadline - time.monotonic())), acted
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the killed group
            proc.wait()


def wait_until_lock_free(dsn: str, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    with connection(dsn) as conn:
        while time.monotonic() < deadline:
            if lock.lock_is_free(conn):
                return True
            time.sleep(0.05)
    return False


def ledger_problems(conn: psycopg.Connection) -> list[str]:
    problems = []
    latest, way = ledger.latest_runs(conn), ledger.backfill_way(conn)
    for p in load_plan()[:default_target()]:
        run = latest.get(p.number)
        if not run or (run["direction"], run["status"]) != ("up", "applied"):
            problems.append(f"phase {p.number} latest run is {run and (run['direction'], run['status'])}")
            continue
        done = {r[0] for r in conn.execute("SELECT step FROM tenant_migrate.step_progress WHERE run_id = %s "
                                           "AND status = 'done'", (run["id"],))}
        if missing := [s.name for s in p.steps("up", way) if s.name not in done]:
            problems.append(f"phase {p.number} applied but steps not done: {missing}")
    for r in ledger.history(conn):
        if r["status"] == "running":
            problems.append(f"run {r['id']} still running")
        if r["status"] in ("interrupted", "failed") and not r["error"]:
            problems.append(f"run {r['id']} {r['status']} without an explanation")
    return problems


# --- the test -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("point", POINTS, ids=[f"{i + 1:02d}-{p.name}" for i, p in enumerate(POINTS)])
def test_killed_migration_resumes_and_loses_nothing(point: Point, request, pg_server, legacy_template, clean_schema,
                                                    tmp_path):
    dsn = clone_legacy(pg_server, legacy_template)
    env = {k: v for k, v in os.environ.items() if k != KILL_AT_ENV}
    if point.flow_to is not None:
        env |= request.getfixturevalue("prefect_api")
    backups, log = tmp_path / "backups", tmp_path / "migration.log"
    try:
        if point.before:
            runner.migrate(dsn, to=point.before, settings=runner.Settings(backfill=point.way))
        if point.into_backfill:  # a row lock taken before the defaults are set would block them, not a batch
            with pytest.raises(KeyboardInterrupt):
                runner.migrate(dsn, to=point.before + 1, settings=runner.Settings(
                    batch_size=BATCH, progress=stop_at_first_batch, backfill=point.way))
        if point.when == "dump-waiting":
            with connection(dsn) as conn:
                conn.execute("CREATE SCHEMA fault_blocker; CREATE TABLE fault_blocker.held (id int)")
        with connection(dsn) as conn:
            before = row_counts(conn)
        cmd = command(point, dsn, backups)
        with LegacyWriter(dsn) if point.writer else contextlib.nullcontext() as writer:
            with blocker(dsn, point) as state:
                state["api"] = env.get("PREFECT_API_URL", "")
                rc, acted = run(cmd, env | ({KILL_AT_ENV: point.kill_at} if point.kill_at else {}), log, point, dsn,
                                state)
            output = log.read_text(errors="replace")
            assert acted or not point.trigger, f"never saw {point.when}:\n{output[-3000:]}"
            assert rc in point.expect_rc, f"exit {rc}, expected {point.expect_rc}:\n{output[-3000:]}"
            if point.kill_at:
                assert f"fault injection: SIGKILL at {point.kill_at}" in output
            assert wait_until_lock_free(dsn), "the advisory lock outlived the killed runner"
            with connection(dsn) as conn:
                stale = [r["phase"] for r in ledger.history(conn) if r["status"] == "running"]
            shown = {r["phase"]: r for r in runner.status(dsn)}
            for number in stale:
                assert "interrupted" == shown[number]["state"]
                assert "migrate resumes it" in shown[number]["explanation"]
            killed = [f"phase {n}: {shown[n]['state']}" for n in stale] or \
                [f"phase {r['phase']}: {r['state']}" for r in shown.values() if r["state"] == "failed"] or \
                ["no run left running"]
            if point.when == "paused":  # the re-run asks again for the go/no-go that was never given
                rerun_rc, approved = run(cmd, env, log, replace(point, trigger="approve", kill_at=None), dsn,
                                         {"api": env["PREFECT_API_URL"], "release": lambda: None,
                                          "killed_run": state["acted_on"][0]})  # it stays PAUSED in the API
                assert approved, "the re-run never paused at the gate"
                point.notes.append("the re-run asked the gate again and the operator approved; the killed run stays "
                                   "Paused in the Prefect API")
            else:
                rerun_rc, _ = run(cmd, env, log)
            assert 0 == rerun_rc, log.read_text(errors="replace")[-3000:]
            if point.flow_to is not None:
                runner.migrate(dsn)  # the phases after the flow's --to
        with connection(dsn) as conn:
            counts = row_counts(conn)
            nulls = {t: conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE user_id IS NULL OR chatbot_id IS NULL")
                                     .format(sql.Identifier(t))).fetchone()[0] for t in TENANT_TABLES}
            invalid = [r[0] for r in conn.execute("SELECT indexrelid::regclass::text FROM pg_index "
                                                  "WHERE NOT indisvalid")]
            schema = catalog_shape(conn)
            problems = ledger_problems(conn)
            lock_free = lock.lock_is_free(conn)
            history = ledger.history(conn)
            gate = ledger.latest_run(conn, point.flow_to or 1, "up")
        written = writer.acknowledged if writer else 0
        expected = {t: before[t] + (written if t in ("contacts", "messages") else 0) for t in LEGACY_TABLES}
        resumed = {r["resumed_from"] for r in history if r["resumed_from"]}
        unresumed = [r["id"] for r in history if r["status"] in ("interrupted", "failed") and r["id"] not in resumed]
        if point.flow_to is not None:
            point.notes.append(f"phase {gate['phase']} validation {'ran' if gate['validation'] else 'never ran'}, "
                               f"decision {gate['decision'] or 'none recorded'}")
            partial = list(backups.glob(".*.partial")) if backups.exists() else []
            if partial:
                point.notes.append(f"{len(partial)} unfinished backup folder left ({partial[0].name})")
        checks = {"rows": expected == counts, "no NULL tenant": not any(nulls.values()),
                  "no invalid index": not invalid, "schema": schema == clean_schema,
                  "ledger": not problems and not unresumed, "lock free": lock_free,
                  "writer": not (writer and writer.failures)}
        OUTCOMES.append({
            "#": str(POINTS.index(point) + 1), "point": point.name,
            "how killed": point.how + (f" `{point.kill_at}`" if point.kill_at else ""),
            "after the kill (`status`)": f"exit {rc}; " + ", ".join(killed),
            "re-run": "exit 0" + (f", then runner for phases {point.flow_to + 1}+" if point.flow_to else "")
            + ("; resumed run " + ", ".join(str(r["resumed_from"]) for r in history if r["resumed_from"])
               if resumed else ""),
            "checks": ", ".join(f"{k} {'ok' if ok else 'FAILED'}" for k, ok in checks.items())
            + (f" ({written} writer rows)" if writer else ""),
            "notes": "; ".join(point.notes)})
        assert expected == counts
        assert {t: 0 for t in TENANT_TABLES} == nulls
        assert [] == invalid
        assert clean_schema == schema
        assert ([], []) == (problems, unresumed)
        assert lock_free
        assert not (writer and writer.failures), writer.failures[:3]
    finally:
        demo.drop_database(pg_server, database_name(dsn))


# --- on the way down ------------------------------------------------------------------------------------

ROLLBACK_ENTRY = ("import logging, sys; from tenant_migrate import runner; "
                  "logging.basicConfig(level=logging.INFO, format='%(message)s'); runner.rollback(sys.argv[1], 0)")
# One rollback to 0, killed at each point in turn: every re-run resumes the interrupted phase and goes on to the next
# point. name -> checkpoint (tenant_migrate/faults.py; `#k`: its k-th hit in that process)
ROLLBACK_KILLS = {
    "phase 8, the row-level security, policies and grants of two tables undone":
        "08_row_level_security/down/01_undo_created_objects:undone#2",
    "phase 7, third index dropped CONCURRENTLY, not yet released in the ledger":
        "07_performance_indexes/down/01_drop_created_indexes:built#3",
    "phase 5, the app's unique index rebuilt CONCURRENTLY, its constraint not yet attached":
        "05_update_constraints/down/01_restore_old_uniques:built#1",
    "phase 5, the app's references given back, the composite ones not yet dropped":
        "05_update_constraints/down/02_restore_single_column_references:done",
    "phase 4, NOT NULL of one tenant table dropped": "04_backfill_tenant_ids/down/01_undo_created_objects:undone#1",
    "phase 2, the tenant columns of one table dropped": "02_add_tenant_columns/down/01_drop_created_columns:undone#1",
}


def test_a_rollback_killed_at_each_point_resumes_to_exactly_the_legacy_database(pg_server, legacy_template, migrated,
                                                                               tmp_path):
    """The app's catalog and every row of its tables (content fingerprint) are as they were before phase 1, the
    ledger shows every phase rolled back with each interrupted run resumed, no INVALID index, the lock free."""
    with connection(with_database(pg_server, legacy_template)) as conn:
        legacy = {k: v for k, v in ownership.catalog(conn).items() if k[0] not in ("role", "membership")}
    legacy_rows = content.take(with_database(pg_server, legacy_template))
    dsn = clone_legacy(pg_server, migrated)
    try:
        env = {k: v for k, v in os.environ.items() if k != KILL_AT_ENV}
        log = tmp_path / "rollback.log"
        for name, kill_at in ROLLBACK_KILLS.items():
            rc, _ = run([sys.executable, "-c", ROLLBACK_ENTRY, dsn], env | {KILL_AT_ENV: kill_at}, log)
            output = log.read_text(errors="replace")
            assert -signal.SIGKILL == rc and f"fault injection: SIGKILL at {kill_at}" in output, output[-3000:]
            assert wait_until_lock_free(dsn), "the advisory lock outlived the killed rollback"
            stale = [r for r in runner.status(dsn) if r["state"] == "interrupted"]
            assert 1 == len(stale) and "rollback resumes it" in stale[0]["explanation"], stale
            OUTCOMES.append({"#": f"R{len(OUTCOMES) + 1}", "point": f"rollback to 0: {name}",
                             "how killed": f"checkpoint `{kill_at}`",
                             "after the kill (`status`)": f"exit {rc}; phase {stale[0]['phase']}: interrupted",
                             "re-run": "the next rollback resumes it"})
        runner.rollback(dsn, 0)
        with connection(dsn) as conn:
            after = {k: v for k, v in ownership.catalog(conn).items() if k[0] not in ("role", "membership")}
            invalid = conn.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid").fetchall()
            history, latest = ledger.history(conn), ledger.latest_runs(conn)
            lock_free = lock.lock_is_free(conn)
        resumed = {r["resumed_from"] for r in history if r["resumed_from"]}
        checks = {"catalog": legacy == after,
                  "rows": [] == content.differences(legacy_rows, content.take(dsn, legacy_rows.columns)),
                  "no invalid index": not invalid, "lock free": lock_free,
                  "ledger": all((r["direction"], r["status"]) == ("down", "rolled_back") for r in latest.values())
                  and not [r for r in history if r["status"] in ("interrupted", "failed", "running")
                           and r["id"] not in resumed]}
        for row in OUTCOMES:
            if row["#"].startswith("R"):
                row["checks"] = ", ".join(f"{k} {'ok' if ok else 'FAILED'}" for k, ok in checks.items())
        assert {k: v for k, v in legacy.items() if k not in after} == {}
        assert {k: v for k, v in after.items() if legacy.get(k) != v} == {}
        assert all(checks.values()), checks
    finally:
        demo.drop_database(pg_server, database_name(dsn))
