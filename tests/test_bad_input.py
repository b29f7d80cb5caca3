"""Bad input through the command line: one line saying what is wrong and what to do, exit 1, no
traceback, no password, and the database exactly as before (catalog shape, row counts, ledger).

Cases already covered elsewhere at the function level are not repeated here: a phase applied out of
order (test_runner), constraints with other names (test_phases), a missing or old pg_dump and a full
disk at the backup level (test_backup). Here they go through `tenant-migrate migrate`, the flow, in a
subprocess, as an operator would meet them. The table of what each printed goes to reports/bad-input.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from conftest import clone_legacy, create_password_role, drop_password_role, resume_gate
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tenant_migrate import demo, ledger, runner
from tenant_migrate.db import catalog_shape, connect, connection, row_counts
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import MigrationError
from tenant_migrate.paths import PROJECT_ROOT

CLI = str(Path(sys.executable).with_name("tenant-migrate"))
ROWS: list[dict[str, str]] = []
SECRET = "Unreachable-s3cret"


def state(dsn: str) -> tuple:
    """Everything a refused command must leave alone: public schema, rows, and the ledger's runs (read without the
    100 ms statement_timeout the slow-table case gives its database: a busy machine reads slower)."""
    with connection(dsn) as conn:
        conn.execute("SET statement_timeout = 0")
        runs = [(r["id"], r["phase"], r["direction"], r["status"]) for r in ledger.history(conn)]
        return catalog_shape(conn), row_counts(conn), ledger.exists(conn), runs


def migrate(dsn: str, *args: str, env: dict[str, str] | None = None,
            during: Callable[[], None] | None = None) -> subprocess.CompletedProcess:
    """`tenant-migrate migrate --dsn DSN --approval auto --no-docs ARGS` in a subprocess; `during` runs
    while it does (to answer a gate)."""
    approval = [] if "--approval" in args else ["--approval", "auto"]
    proc = subprocess.Popen([CLI, "migrate", "--dsn", dsn, "--no-docs", *approval, *args], cwd=PROJECT_ROOT,
                            env=os.environ | (env or {}), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if during:
        during()
    out, err = proc.communicate(timeout=180)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def answer_gate(api: str, dsn: str, run_input: dict | None) -> Callable[[], None]:
    """Wait for the migrate run of `dsn` to pause at its gate, then resume it with run_input (None: leave it)."""

    def answer() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            runs = httpx.post(f"{api}/flow_runs/filter", json={"flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}})
            paused = [r["id"] for r in runs.json() if r["parameters"].get("database") == dsn]
            if paused:
                if run_input is not None:
                    resume_gate(api, paused[0], run_input)
                return
            time.sleep(0.3)
        raise AssertionError("the run never paused at its gate")

    return answer


@dataclass
class Case:
    name: str
    message: str  # the start of the error line, after "error: "
    dsn: str = "{dsn}"  # the DSN given; {dsn} = the test database's, {password} = as the password role
    args: tuple[str, ...] = ("--no-backup",)
    env: dict[str, str] = field(default_factory=dict)
    setup: str = ""  # what is done to the database first (see prepare)
    changes: str = ""  # what the command may change (a rejected or timed-out gate: the ledger records it)


CASES = [
    Case("unreachable host", "cannot connect to u@127.0.0.1:1/x: Connection refused: check the host and port",
         dsn=f"postgresql://u:{SECRET}@127.0.0.1:1/x",  # on a temporary Prefect server of its own
         env={"PREFECT_API_URL": "", "PREFECT_HOME": "{tmp}/prefect"}),
    Case("wrong password", "cannot connect to {role}@", dsn="{wrong_password}", setup="password role"),
    Case("database missing", 'cannot connect to {user}@{hostport}/tm_no_such_db: database "tm_no_such_db" does not '
         "exist: check the database name", dsn="{no_such_db}"),
    Case("legacy table missing", "check: phase 1 preflight: legacy table campaign_subscribers is missing from the "
         "public schema: point --dsn at the legacy database", setup="DROP TABLE campaign_subscribers"),
    Case("user_id already present with another type", "check: phase 2 column contacts.user_id: exists as text: the "
         "plan adds it as the tenant id", setup="ALTER TABLE contacts ADD COLUMN user_id text"),
    Case("pg_dump missing", "PG_DUMP=/nonexistent/pg_dump is not an executable file: point it at pg_dump or unset it",
         args=("--backup-dir", "{tmp}/backups"), env={"PG_DUMP": "/nonexistent/pg_dump"}),
    Case("pg_dump older than the server", "{tmp}/bin/pg_dump is version 9.6, older than the server",
         args=("--backup-dir", "{tmp}/backups"), env={"PG_DUMP": "{tmp}/bin/pg_dump"}, setup="old pg_dump"),
    Case("backup folder not writable (under a regular file)", "backup folder {tmp}/a-file/backups cannot be created: "
         "{tmp}/a-file is not a directory; choose another --backup-dir",
         args=("--backup-dir", "{tmp}/a-file/backups"), setup="a file"),
    Case("not enough disk", "not enough disk for the backup in {tmp}/backups: 1000 B free",
         args=("--backup-dir", "{tmp}/backups"), env={"TENANT_MIGRATE_FAKE_FREE_BYTES": "1000"}),
    Case("second concurrent run", "another migration is running on {user}@{hostport}/{db} (pid ", setup="hold lock"),
    Case("drift of an applied phase", "drift: sql/{drifted} changed since phase 1 was applied", setup="drift"),
    Case("role without the privileges", "check: phase 1 preflight: role {noprivs} cannot alter table public.",
         dsn="{noprivs_dsn}", setup="unprivileged role"),
    Case("approval rejected", "phase 1 01_create_core_tables rejected by lead: it was rolled back; the migration "
         "stopped", args=("--no-backup", "--to", "1", "--approval", "manual"), setup="reject",
         changes="ledger: phase 1 applied, rejected, rolled back"),
    Case("approval timed out", "approval timed out",
         args=("--no-backup", "--to", "1", "--approval", "manual", "--approval-timeout", "2"), setup="time out",
         changes="ledger: phase 1 applied, timed out, rolled back"),
    Case("statement timeout on a slow table", "phase 4 04_backfill_tenant_ids applying at step ",
         args=("--no-backup", "--to", "4", "--batch-size", "100", "--backfill", "batched"), setup="slow table",
         changes="phase 4 failed and resumable: its defaults are set, the ledger says where it stopped"),
]


@pytest.fixture(scope="module", autouse=True)
def bad_input_report() -> Iterator[None]:
    yield
    if ROWS:
        columns = ["input", "message printed (the `error:` line)", "exit", "database unchanged"]
        lines = [f"# Bad input: {len(ROWS)} cases through `tenant-migrate migrate`", "",
                 "Generated by `tests/test_bad_input.py`.", "",
                 "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(r[c].replace("|", "/") for c in columns) + " |" for r in ROWS]
        (PROJECT_ROOT / "reports").mkdir(exist_ok=True)
        (PROJECT_ROOT / "reports" / "bad-input.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print("\n" + "\n".join(lines))


def prepare(case: Case, dsn: str, tmp: Path, password_auth: bool) -> dict[str, str]:
    """Do the case's setup; returns the names its texts use (and "skip" when the case cannot run here)."""
    names = {"tmp": str(tmp), "dsn": dsn, "db": database_name(dsn)}
    with connection(dsn) as conn:
        names["user"] = conn.info.user
        names["hostport"] = f"{conn.info.host}:{conn.info.port}"
        if case.setup.startswith(("DROP", "ALTER")):
            conn.execute(case.setup)
    names["no_such_db"] = make_conninfo(dsn, dbname="tm_no_such_db")
    if case.setup == "password role":
        if not password_auth:
            return names | {"skip": "the test server's pg_hba.conf cannot be edited: every role may be trusted"}
        good = names["password_role"] = create_password_role(dsn)
        names["wrong_password"] = make_conninfo(good, password="Wr0ng-" + conninfo_to_dict(good)["password"])
        names["role"] = conninfo_to_dict(good)["user"]
    elif case.setup == "old pg_dump":
        fake = tmp / "bin" / "pg_dump"
        fake.parent.mkdir()
        fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
        fake.chmod(0o755)
    elif case.setup == "a file":
        (tmp / "a-file").write_text("not a folder")
    elif case.setup == "drift":
        applied_and_approved(dsn, 1)
        with connection(dsn) as conn:
            names["drifted"] = next(iter(ledger.latest_run(conn, 1)["files"]))
            conn.execute("UPDATE tenant_migrate.phase_runs SET files = jsonb_set(files, ARRAY[%s], '\"0\"') "
                         "WHERE phase = 1", (names["drifted"],))
    elif case.setup == "unprivileged role":
        names["noprivs"] = f"{names['db']}_noprivs"
        with connection(dsn) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(names["noprivs"])))
        names["noprivs_dsn"] = make_conninfo(dsn, user=names["noprivs"])
    elif case.setup == "slow table":  # a backfill batch of 100 messages takes 1 s; statements may take 0.5 s (the
        applied_and_approved(dsn, 3, backfill="batched")  # migration's catalog reads too: seen over 0.1 s at load 14)
        with connection(dsn) as conn:  # an index of the app's that costs 10 ms a row given a tenant to maintain
            conn.execute("CREATE FUNCTION slow_key(bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS "
                         "$$ BEGIN IF $1 IS NOT NULL THEN PERFORM pg_sleep(0.01); END IF; RETURN $1; END $$")
            conn.execute("CREATE INDEX messages_slow_key ON messages (slow_key(user_id))")
            conn.execute(sql.SQL("ALTER DATABASE {} SET statement_timeout = '500ms'").format(
                sql.Identifier(names["db"])))
    return names


def applied_and_approved(dsn: str, to: int, backfill: str | None = None) -> None:
    """Phases 1..to applied (by the runner, fast) and approved, as an earlier `migrate` would leave them."""
    runner.migrate(dsn, to=to, settings=runner.Settings(backfill=backfill))
    with connection(dsn) as conn:
        conn.execute("UPDATE tenant_migrate.phase_runs SET decision = 'approved', approved_by = 'earlier run'")


def drop_role(dsn: str, role: str) -> None:
    with connection(dsn) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def attempt(case: Case, dsn: str, names: dict[str, str], api: dict[str, str]) -> subprocess.CompletedProcess:
    """The case's command, with what happens meanwhile (another runner holding the lock, an operator)."""
    target = case.dsn.format(**names)
    env = api | {k: v.format(**names) for k, v in case.env.items()}
    args = [a.format(**names) for a in case.args]
    if case.setup == "hold lock":
        with runner.migration_lock(dsn):
            return migrate(target, *args, env=env)
    during = None
    if case.setup in ("reject", "time out"):
        answer = {"approve": False, "approver": "lead", "comment": "not today"} if case.setup == "reject" else None
        during = answer_gate(api["PREFECT_API_URL"], target, answer)
    return migrate(target, *args, env=env, during=during)


@pytest.fixture(scope="module")
def outcomes(pg_server, legacy_template, prefect_api, password_auth, tmp_path_factory) -> Iterator[dict]:
    """Every case prepared on its own database, then all the commands run three at a time (each starts
    Python and Prefect: about 4 s of CPU), then the state of each database read again."""
    prepared = []
    for case in CASES:
        dsn = clone_legacy(pg_server, legacy_template)
        names = prepare(case, dsn, tmp_path_factory.mktemp("case"), password_auth)
        prepared.append((case, dsn, names, state(dsn)))
    runnable = [p for p in prepared if "skip" not in p[2]]
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda p: attempt(p[0], p[1], p[2], prefect_api), runnable))
    by_name = {p[0].name: {"dsn": p[1], "names": p[2], "before": p[3]} for p in prepared}
    for (case, dsn, _, _), result in zip(runnable, results, strict=True):
        by_name[case.name] |= {"result": result, "after": state(dsn)}
    yield by_name
    for _, dsn, names, _ in prepared:
        if "password_role" in names:
            drop_password_role(dsn, names["password_role"])
        if "noprivs" in names:
            drop_role(dsn, names["noprivs"])
        demo.drop_database(pg_server, database_name(dsn))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(case: Case, outcomes):
    outcome = outcomes[case.name]
    names, before = outcome["names"], outcome["before"]
    if "skip" in names:
        pytest.skip(names["skip"])
    result, after = outcome["result"], outcome["after"]
    output = result.stdout + result.stderr
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    expected = f"error: {case.message.format(**names)}"
    unchanged = before == after if not case.changes else before[:2] == after[:2]
    said = "yes" if unchanged else "NO"
    if case.changes:
        same = {part: "same" if before[i] == after[i] else "changed" for i, part in enumerate(("schema", "rows"))}
        said = f"schema {same['schema']}, rows {same['rows']}: {case.changes}"
    ROWS.append({"input": case.name, "message printed (the `error:` line)": f"`{errors[-1] if errors else '-'}`",
                 "exit": str(result.returncode), "database unchanged": said})
    assert 1 == result.returncode, output[-3000:]
    assert 1 == len(errors), output[-3000:]
    assert errors[0].startswith(expected) if case.setup != "time out" else case.message in errors[0], errors[0]
    assert "Traceback" not in output
    # Prefect's notices (tenant_migrate/cli/__init__.py)
    assert "temporary server" not in output and "Logging error" not in output
    if case.env.get("PREFECT_API_URL") == "":
        assert "note: this run's logs and artifacts were kept by a temporary Prefect server" in output
    if password := conninfo_to_dict(case.dsn.format(**names)).get("password"):
        assert password not in output
    if case.setup == "slow table":
        assert "cut by statement_timeout (500ms) 3 times" in errors[0]
        with connection(outcome["dsn"]) as conn:
            assert "failed" == ledger.latest_run(conn, 4)["status"]
        assert before[1] == after[1]
    else:
        assert unchanged
    if case.setup in ("reject", "time out"):
        with connection(outcome["dsn"]) as conn:
            decisions = [(r["direction"], r["status"], r["decision"]) for r in ledger.history(conn)]
        verdict = "rejected" if case.setup == "reject" else "timed_out"
        assert [("up", "applied", verdict), ("down", "rolled_back", None)] == decisions


def test_the_password_role_really_needs_its_password(password_role, password_auth):
    """Without this, the wrong-password case above could pass on a server that trusts everyone."""
    if not password_auth:
        pytest.skip("the test server's pg_hba.conf cannot be edited")
    connect(password_role).close()
    with pytest.raises(MigrationError, match="password authentication failed"):
        connect(make_conninfo(password_role, password="nope"))
