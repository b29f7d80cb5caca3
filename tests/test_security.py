"""No password and no full DSN anywhere after migrations by a password-protected role, and API keys stored
hashed only.

The role logs in with a password (scram-sha-256 where the test server's pg_hba.conf can be edited; on a
server that trusts every local role the password is still given, and must still never show). It runs
`tenant-migrate migrate --dsn <DSN with password>` and the `migrate` flow with the DSN in a Prefect Secret
block, through a manual gate, both with verified backups; then a few failures. Then everything is
searched for the password and the DSN: the commands' output, Prefect's flow runs (parameters, state
messages), logs, artifacts and run inputs (the gate's form), the ledger tables, the backup folder
(manifests, sidecars, archives), and the texts of the exceptions raised.
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest
from conftest import resume_gate
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tenant_migrate import ledger, runner
from tenant_migrate.backup import dump
from tenant_migrate.db import connection
from tenant_migrate.errors import MigrationError
from tenant_migrate.paths import PROJECT_ROOT
from tenant_migrate.plan import load_plan

CLI = str(Path(sys.executable).with_name("tenant-migrate"))
SECRET_FLOW = """
import os, sys
from prefect.blocks.system import Secret
from tenant_migrate.flows.migrate import migrate
Secret(value=os.environ["TM_TEST_DSN"]).save(sys.argv[1], overwrite=True)
state = migrate(database=sys.argv[1], to=int(sys.argv[2]), approval="manual", backup_dir=sys.argv[3],
                data_docs=False, poll_interval=1, return_state=True)
sys.exit(0 if state.is_completed() else 1)
"""


def run(args: list[str], env: dict[str, str], api: str | None = None, block: str = "") -> str:
    """Run a command; with `api`, approve the gate its flow pauses at. Returns all it printed."""
    proc = subprocess.Popen(args, cwd=PROJECT_ROOT, env=os.environ | env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    if api:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            runs = httpx.post(f"{api}/flow_runs/filter", json={"flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}})
            paused = [r["id"] for r in runs.json() if r["parameters"].get("database") == block]
            if paused:
                resume_gate(api, paused[0], {"approve": True, "approver": "security test"})
                break
            time.sleep(0.3)
    out, _ = proc.communicate(timeout=300)
    assert 0 == proc.returncode or "error: " in out, out[-3000:]
    return out


def everything_in_prefect(api: str) -> str:
    """Flow runs (parameters, state messages), task runs, logs, artifacts and run inputs, as JSON text."""
    texts = []
    for kind in ("flow_runs", "task_runs", "artifacts", "logs"):
        offset = 0
        while True:
            page = httpx.post(f"{api}/{kind}/filter", json={"limit": 200, "offset": offset}).json()
            texts += [str(item) for item in page]
            if len(page) < 200:
                break
            offset += 200
    for flow_run in httpx.post(f"{api}/flow_runs/filter", json={}).json():
        inputs = httpx.post(f"{api}/flow_runs/{flow_run['id']}/input/filter", json={"prefix": ""})
        texts.append(inputs.text)
    return "\n".join(texts)


def everything_in_the_ledger(dsn: str) -> str:
    with connection(dsn) as conn:
        tables = [r[0] for r in conn.execute("SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
                                             "WHERE schemaname = 'tenant_migrate'")]
        return "\n".join(str(conn.execute(f"SELECT json_agg(t) FROM {t} AS t").fetchone()[0]) for t in tables)


def everything_in(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode(errors="replace") for p in folder.rglob("*") if p.is_file())


def exception_texts(dsn: str, tmp_path: Path) -> str:
    """What the plain functions raise for a password DSN: a wrong password, a full disk, a phase out of order."""
    texts = []
    failing = [lambda: runner.migrate(make_conninfo(dsn, password="wrong-" + conninfo_to_dict(dsn)["password"])),
               lambda: dump.backup(dsn, phase=None, backup_dir=tmp_path / "none", free_bytes=0),
               lambda: runner.apply_phase(dsn, len(load_plan()))]
    for call in failing:
        with pytest.raises(MigrationError) as caught:
            call()
        texts.append(f"{caught.value!s} {caught.value!r}")
    return "\n".join(texts)


@pytest.mark.flow
def test_no_password_or_dsn_in_output_prefect_ledger_backups_or_exceptions(password_role, prefect_api, tmp_path,
                                                                            caplog):
    caplog.set_level(logging.INFO)
    dsn = password_role
    password = conninfo_to_dict(dsn)["password"]
    url_form = f"postgresql://{conninfo_to_dict(dsn)['user']}:{password}@"
    backups, block = tmp_path / "backups", f"pg-dsn-{conninfo_to_dict(dsn)['dbname'].replace('_', '-')}"
    outputs = [
        run([CLI, "migrate", "--dsn", dsn, "--to", "2", "--approval", "auto", "--no-docs", "--backup-dir",
             str(backups)], prefect_api),
        run([sys.executable, "-c", SECRET_FLOW, block, "3", str(backups)], prefect_api | {"TM_TEST_DSN": dsn},
            api=prefect_api["PREFECT_API_URL"], block=block),
        run([CLI, "status", "--dsn", dsn], {}),
        run([CLI, "migrate", "--dsn", make_conninfo(dsn, password="wrong-" + password), "--approval", "auto"],
            prefect_api),
    ]
    with connection(dsn) as conn:
        assert [1, 2, 3] == sorted(ledger.applied_phases(conn))
        assert 3 == conn.execute("SELECT count(*) FROM tenant_migrate.phase_runs WHERE backup_sha256 IS NOT NULL "
                                 "AND decision IS NOT NULL").fetchone()[0]
    places = {
        "command output": "\n".join(outputs),
        "Prefect runs, logs, artifacts, inputs": everything_in_prefect(prefect_api["PREFECT_API_URL"]),
        "ledger": everything_in_the_ledger(dsn),
        "backup folder": everything_in(backups),
        "exceptions": exception_texts(dsn, tmp_path),
        "logs of this process": caplog.text,
    }
    assert 3 == sum(1 for p in backups.iterdir() if (p / "manifest.json").is_file())
    shown = f"{conninfo_to_dict(dsn)['user']}@"  # how the database is named everywhere: user@host:port/dbname
    assert "security test" in places["ledger"]  # the places searched hold the runs
    assert block in places["Prefect runs, logs, artifacts, inputs"]
    assert shown in places["Prefect runs, logs, artifacts, inputs"] and shown in places["backup folder"]
    for where, text in places.items():
        assert password not in text, where
        assert dsn not in text, where
        assert url_form not in text, where
        assert "password=" not in text, where


def test_api_keys_are_stored_hashed_only(legacy_db):
    runner.migrate(legacy_db, to=6)
    with connection(legacy_db) as conn:
        columns = [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                              "WHERE table_schema = 'public' AND table_name = 'api_keys'")]
        assert "api_key_hash" in columns
        assert [] == [c for c in columns if "key" in c and c not in ("api_key_hash", "key_name", "key_prefix")]
        key = "sk_live_4f8a2c9e1b7d"
        conn.execute("INSERT INTO api_keys (user_id, key_name, key_prefix, api_key_hash) VALUES (1, 'ci', %s, %s)",
                     (key[:8], hashlib.sha256(key.encode()).hexdigest()))
        with pytest.raises(psycopg.errors.CheckViolation):  # the key itself does not fit the hash column
            conn.execute("INSERT INTO api_keys (user_id, key_name, api_key_hash) VALUES (1, 'plain', %s)", (key,))
        stored = conn.execute("SELECT json_agg(k)::text FROM api_keys AS k").fetchone()[0]
    assert key not in stored and hashlib.sha256(key.encode()).hexdigest() in stored
