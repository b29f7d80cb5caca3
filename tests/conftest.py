"""One PostgreSQL server per test session, and a fresh legacy database per test.

The server is the embedded one (a private data directory and port) unless TEST_DATABASE_URL
names another server; the tests create and drop their own databases on it.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import itertools
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# A flow run in this process outside a prefect_test_harness (the CLI's own runs) starts a temporary Prefect server on
# $PREFECT_HOME's SQLite database: one of this process's own (set here: Prefect reads its settings once, on import),
# not ~/.prefect, which other test sessions and the user's own runs share (their locks stall the server's start).
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="tm-test-prefect-")
atexit.register(shutil.rmtree, os.environ["PREFECT_HOME"], ignore_errors=True)
# The command line's own Prefect settings (tenant_migrate/cli/__init__.py: a temporary server may take 120 s to start
# on a busy machine, not 20) also for its commands run in this process (CliRunner): set before Prefect is imported.
importlib.import_module("tenant_migrate.cli")

import httpx
import pgbouncer as pgbouncer_harness
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
from prefect.testing.utilities import prefect_test_harness
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tenant_migrate import demo, embedded, standby
from tenant_migrate.db import (
    LEGACY_TABLES,
    catalog_shape,
    connection,
    create_database,
    row_counts,
    scalar,
    scratch_database,
)
from tenant_migrate.dsn import database_name, with_database

TEST_SCALE = 0.05  # 500 contacts, 5,000 messages: every table has rows, every test stays fast
TEMPLATE = "tm_test_legacy_template"
_counter = itertools.count()


def _casts_and_parens_removed(definition: str) -> str:
    return re.sub(r"::[a-z ]+(\[\])?|[()]", "", definition)


def snapshot(dsn: str) -> tuple:
    """Fingerprint and row counts. PostgreSQL deparses a CHECK (varchar_col IN (...)) differently once
    it went through a dump and restore (`(ARRAY['a'::varchar])::text[]` becomes `ARRAY[('a'::varchar)::text]`,
    the same expression), so constraint definitions are compared without their casts and parentheses."""
    with connection(dsn) as conn:
        shape = [(kind, table, name, _casts_and_parens_removed(d) if kind == "constraint" else d)
                 for kind, table, name, d in catalog_shape(conn)]
        return shape, row_counts(conn)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def private_output_folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Backups and Data Docs of the tests go to temp folders, never to the project's."""
    os.environ["TENANT_MIGRATE_BACKUP_DIR"] = str(tmp_path_factory.mktemp("backups"))
    os.environ["TENANT_MIGRATE_REPORTS_DIR"] = str(tmp_path_factory.mktemp("reports"))


# A worker's server holds a few hundred databases over a run, ~3,000 pg_stat_statements entries per 15 tests (the
# migration's DDL is recorded per database): with the default 5,000 the extension evicts entries as the run goes,
# and a test that reads the app statement it has just run could find it gone (seen once in CI, on PostgreSQL 15).
TEST_SERVER_SETTINGS = {"pg_stat_statements.max": "100000"}


@contextlib.contextmanager
def server_data_dir(prefix: str) -> Iterator[Path]:
    """A data directory for a test server, outside pytest's base folder: a pytest session started meanwhile by the
    same OS user closes that folder to other users, and a server run as another OS user (as root, embedded.py's
    server user) then fails on its own files (seen: PANIC "could not open file global/pg_control")."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder / "pgdata"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """DSN of the session's server, connected to its maintenance database."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    with server_data_dir("tm-test-server-") as pgdata:
        yield embedded.start(pgdata, _free_port(), settings=TEST_SERVER_SETTINGS)
        embedded.stop(pgdata)


@pytest.fixture(scope="session")
def legacy_template(pg_server: str) -> Iterator[str]:
    """Name of a template database holding the legacy schema with a little demo data."""
    demo.drop_database(pg_server, TEMPLATE)
    demo.load(demo.create_database(pg_server, TEMPLATE), TEST_SCALE)
    yield TEMPLATE
    demo.drop_database(pg_server, TEMPLATE)


@pytest.fixture
def streaming_standby(pg_server: str) -> Iterator[standby.Standby]:
    """A streaming standby of the session's server (pg_basebackup -R, the server's own binaries run as the
    server's OS user), only for the tests that ask for it, stopped after. Skipped when the server is not on this
    machine (TEST_DATABASE_URL elsewhere)."""
    if not standby.is_local(pg_server):
        pytest.skip("no standby: the test server is not on this machine")
    replica = standby.start(pg_server)
    yield replica
    standby.stop(replica)


def need_program(path: str, package: str) -> None:
    """Skip the test, saying why, when the program `path` is missing: `make test` installs its Debian `package`
    (listed in the Makefile's SYSTEM_PACKAGES) where it runs as root with apt-get. Under .ci/run
    (TENANT_MIGRATE_CI=1), which always installs them, a missing program fails the test instead."""
    if Path(path).exists():
        return
    reason = f"{path} is missing: `make test` installs {package} where it runs as root with apt-get"
    if os.environ.get("TENANT_MIGRATE_CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pgbouncer(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[pgbouncer_harness.Poolers]:
    """Real PgBouncers in front of the session's server, one per pool mode (transaction, session, statement):
    Debian's pgbouncer with our own ini in a temp folder (tests/pgbouncer.py). Skipped, saying why, without it."""
    need_program(str(pgbouncer_harness.BINARY), "pgbouncer")
    poolers = pgbouncer_harness.start(pg_server, tmp_path_factory.mktemp("pgbouncer"))
    yield poolers
    pgbouncer_harness.stop(poolers)


def eventually(condition: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """What condition() returns once it is true, polled every 50 ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    raise AssertionError(f"no {what} after {timeout} s")


def add_messages(dsn: str, rows: int) -> None:
    """More messages for a backfill that takes a while (tenant 1's first contact writes them)."""
    with connection(dsn) as conn:
        conn.execute("INSERT INTO messages (contact_id, message_id, direction, message_type, content_text, status, "
                     "sent_at) SELECT (SELECT min(id) FROM contacts), 'bulk.' || g, 'incoming', 'text', "
                     "repeat('x', 100), 'delivered', now() FROM generate_series(1, %s) AS g", (rows,))


def caught_up(primary: str, name: str) -> bool:
    """The standby `name` has replayed everything the primary wrote."""
    with connection(primary) as conn:
        return bool(scalar(conn, "SELECT count(*) FROM pg_stat_replication WHERE application_name = %s "
                                 "AND replay_lsn = pg_current_wal_lsn()", (name,)))


def replay(standby_dsn: str, action: str) -> None:
    """pause or resume the standby's replay (it keeps receiving WAL)."""
    with connection(standby_dsn) as conn:
        conn.execute(sql.SQL("SELECT {}()").format(sql.Identifier(f"pg_wal_replay_{action}")))


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    """A backup folder of the test's own (not yet created)."""
    return tmp_path / "backups"


@pytest.fixture
def empty_db(pg_server: str) -> Iterator[str]:
    """DSN of a new, empty database, dropped after the test."""
    name = f"tm_test_{os.getpid()}_{next(_counter)}"
    demo.drop_database(pg_server, name)  # left by a killed session of the same pid
    with scratch_database(pg_server, name) as dsn:
        yield dsn


@pytest.fixture
def legacy_db(pg_server: str, legacy_template: str) -> Iterator[str]:
    """DSN of a fresh legacy database cloned from the template, dropped after the test."""
    dsn = clone_legacy(pg_server, legacy_template)
    yield dsn
    demo.drop_database(pg_server, database_name(dsn))


def clone_legacy(pg_server: str, legacy_template: str) -> str:
    """DSN of a new legacy database cloned from the template (for fixtures that need several)."""
    name = f"tm_test_{os.getpid()}_{next(_counter)}"
    demo.drop_database(pg_server, name)
    with connection(pg_server) as conn:
        create_database(conn, name, legacy_template)
    return with_database(pg_server, name)


@pytest.fixture(scope="module")
def prefect_harness() -> Iterator[None]:
    """A temporary Prefect API for flows run in this process (prefect_test_harness), for one test module: kept
    per module so that no other test finds a Prefect API it did not ask for."""
    with prefect_test_harness(server_startup_timeout=60):
        yield


def paused_run_id(timeout: float = 120) -> str:
    """The id of the flow run paused at a gate (there is one at a time in these tests)."""
    paused = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=["PAUSED"])))
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(flow_run_filter=paused)
            if runs:
                return str(runs[0].id)
            time.sleep(0.3)
    raise AssertionError("no paused flow run")


def run_in_thread(flow_fn: Callable[..., Any] | None = None, **params: Any) -> tuple[threading.Thread, dict]:
    """Run a flow (default: migrate) in a thread, to answer its gates from the test; out["state"] is its state."""
    from tenant_migrate.flows.migrate import migrate  # noqa: PLC0415 - only the flow tests need Prefect's flows imported

    out: dict[str, Any] = {}
    target = flow_fn or migrate
    thread = threading.Thread(target=lambda: out.update(state=target(**params, return_state=True)))
    thread.start()
    return thread, out


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A Prefect server (no UI) for flows run in subprocesses, and the environment that points them at it.
    Started here, not waited for (see prefect_api), so that a module can start it early."""
    env = {"PREFECT_API_URL": f"http://127.0.0.1:{_free_port()}/api",
           "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect")), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    port = env["PREFECT_API_URL"].split(":")[-1].removesuffix("/api")
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port",
                               port], env=os.environ | env | {"PREFECT_UI_ENABLED": "false"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield env
    server.terminate()
    server.wait()


@pytest.fixture(scope="session")
def prefect_api(prefect_server: dict[str, str]) -> dict[str, str]:
    """prefect_server, once it answers."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{prefect_server['PREFECT_API_URL']}/health", timeout=2).status_code == 200:
                return prefect_server
        time.sleep(0.3)
    raise AssertionError("the Prefect server did not start")


PASSWORD = "Tm-s3cret-Pa55-x9"  # the password of password_role's login role
PASSWORD_GROUP = "tm_password_users"


@pytest.fixture(scope="session")
def password_auth(pg_server: str) -> Iterator[bool]:
    """Whether members of tm_password_users must give their password (scram-sha-256): pg_hba.conf of the
    test server is edited when it is a local file (the embedded server, CI's own cluster); elsewhere the
    server's rules apply (possibly trust), and a test of a wrong password is skipped."""
    with connection(pg_server) as conn:
        conn.execute(f"DO $$ BEGIN CREATE ROLE {PASSWORD_GROUP} NOLOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        if not (hba.is_file() and os.access(hba, os.W_OK)):
            yield False
            return
        original = hba.read_text()
        rules = "".join(f"host all +{PASSWORD_GROUP} {net} scram-sha-256\n" for net in ("127.0.0.1/32", "::1/128"))
        hba.write_text(rules + original)
        conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.2)  # the postmaster reloads asynchronously
        try:
            yield True
        finally:
            hba.write_text(original)
            conn.execute("SELECT pg_reload_conf()")


@pytest.fixture
def password_role(legacy_db: str, password_auth: bool) -> Iterator[str]:
    """DSN (with PASSWORD in it) of a LOGIN role that owns legacy_db and its tables and may run every phase."""
    dsn = create_password_role(legacy_db)
    yield dsn
    drop_password_role(legacy_db, dsn)


def create_password_role(dsn: str) -> str:
    """A LOGIN role with PASSWORD, in tm_password_users, owning the database of `dsn` and its legacy tables,
    member of phase 8's roles; returns its DSN, password included."""
    db = database_name(dsn)
    role = f"{db}_pw"
    with connection(dsn) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
            sql.Identifier(role), sql.Literal(PASSWORD), sql.Identifier(PASSWORD_GROUP)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(db), sql.Identifier(role)))
        for table in LEGACY_TABLES:
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(table), sql.Identifier(role)))
        for tenant_role in ("tenant_app", "tenant_legacy", "tenant_owner"):  # phase 8's roles, cluster-wide
            conn.execute(f"DO $$ BEGIN CREATE ROLE {tenant_role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
            conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(tenant_role), sql.Identifier(role)))
    return make_conninfo(dsn, user=role, password=PASSWORD)


def drop_password_role(dsn: str, role_dsn: str) -> None:
    role = conninfo_to_dict(role_dsn)["user"]
    with connection(dsn) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO CURRENT_USER").format(sql.Identifier(database_name(dsn))))
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def resume_gate(api: str, flow_run_id: str, run_input: dict) -> None:
    """Answer a paused gate through the Prefect REST API, as the UI's Resume does. The test server's SQLite
    is sometimes busy under load (503): try again a few times."""
    for attempt in range(10):
        response = httpx.post(f"{api}/flow_runs/{flow_run_id}/resume", json={"run_input": run_input})
        if response.status_code < 500 or attempt == 9:
            response.raise_for_status()
            return
        time.sleep(0.5)


# The app's statements, recorded by pg_stat_statements (the compatibility check, tenant_migrate/compat/)
APP_UPSERT = ("INSERT INTO contacts (phone_number, thread_id) VALUES (%s, %s) "
              "ON CONFLICT (phone_number) DO UPDATE SET thread_id = EXCLUDED.thread_id RETURNING id")
APP_LOOKUP = "SELECT id, thread_id FROM contacts WHERE phone_number = %s"
APP_POSITIONAL = "INSERT INTO campaigns VALUES (DEFAULT, %s, %s, 'draft', now(), now()) RETURNING id"
APP_STAR = "SELECT * FROM orders WHERE id = %s"
APP_UPSERT_CALLS = 7


def app_role(dsn: str, suffix: str = "app", *, tenant: bool = True) -> str:
    """A LOGIN role `<db>_<suffix>` (suffix starting with app) with the privileges a legacy backend has on the
    database of `dsn` (granted tenant_legacy unless `tenant` is False); returns its DSN. drop_app_roles() drops it."""
    role = f"{database_name(dsn)}_{suffix}"
    with connection(dsn) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.Identifier(role)))
        conn.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(sql.Identifier(role)))
        if tenant:
            conn.execute("DO $$ BEGIN CREATE ROLE tenant_legacy NOLOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
            conn.execute(sql.SQL("GRANT tenant_legacy TO {}").format(sql.Identifier(role)))
    return make_conninfo(dsn, user=role)


def drop_app_roles(dsn: str) -> None:
    """Drop every role app_role() made for the database of `dsn` (their grants there first)."""
    with connection(dsn) as conn:
        roles = [r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)",
                                            (f"{database_name(dsn)}_app",))]
        for role in roles:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def run_app_statements(app_dsn: str) -> None:
    """What the legacy backend runs: the backend contract's legacy calls and a few hand-written statements (the
    upsert on phone_number, APP_UPSERT_CALLS times; a lookup by phone number; a positional INSERT; a SELECT *)."""
    from tenant_migrate import backend_contract as bc  # noqa: PLC0415 - only the compatibility tests play the app

    with connection(app_dsn) as app:
        for i in range(APP_UPSERT_CALLS):
            contact = bc.get_or_create_contact(app, f"+4470000{i:05d}")
            message = bc.log_message(app, contact.id, "incoming", "hello")
            order = bc.create_order(app, contact.id, {"items": [i]}, message_id=message)
            bc.update_order_status(app, order, "paid")
            bc.order_status(app, order)
            campaign = bc.create_campaign(app, f"campaign {i}", "hi {{name}}")
            bc.add_subscriber(app, campaign, contact.id)
            bc.save_thread_id(app, contact.id, f"thread-{i}")
            bc.load_thread_id(app, contact.id)
            app.execute(APP_UPSERT, (f"+4471111{i:05d}", f"upsert-thread-{i}"))
            app.execute(APP_LOOKUP, (f"+4471111{i:05d}",))
            app.execute(APP_POSITIONAL, (f"positional {i}", "template"))
            app.execute(APP_STAR, (order,))


@pytest.fixture
def app_db(legacy_db: str) -> Iterator[str]:
    """legacy_db with pg_stat_statements installed and an app role (granted tenant_legacy) that ran
    run_app_statements(), so that they are recorded. The server must load pg_stat_statements at start."""
    with connection(legacy_db) as conn:
        loaded = "pg_stat_statements" in conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        if not loaded:
            pytest.fail("the test server must load pg_stat_statements: shared_preload_libraries = 'pg_stat_statements'")
        conn.execute("CREATE EXTENSION pg_stat_statements")
    run_app_statements(app_role(legacy_db))
    yield legacy_db
    drop_app_roles(legacy_db)
