"""The app's code never runs with the migration's privileges (tenant_migrate/probe.py): a function of the app's that
the planner folds while the app-statement check plans a statement, and a trigger of the app's that the acceptance
checklist's writes fire, both give themselves their session's own role back (set_config('role', 'none', true)) and
try what only the migration's superuser may: write a file on the server (COPY ... TO PROGRAM), make the app's role a
superuser, write a table the app may not. `tenant-migrate check`, `tenant-migrate compat`, the gates of a migrate run
and the acceptance checklist leave no trace of either; the login roles of ours are gone afterwards, also after a
failure or a kill; a server that lets them not log in gets one line, and the statements stay unchecked."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import app_role, drop_app_roles, snapshot
from psycopg import sql
from typer.testing import CliRunner

from tenant_migrate import probe, runner
from tenant_migrate.acceptance import checklist
from tenant_migrate.cli.flows import run_flow
from tenant_migrate.cli.main import app
from tenant_migrate.compat.prepare import check_all
from tenant_migrate.compat.statements import read
from tenant_migrate.db import connection, scalar
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import MigrationError
from tenant_migrate.flows.migrate import migrate
from tenant_migrate.paths import PROJECT_ROOT

pytestmark = [pytest.mark.flow, pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

# The app's code, owned by the app's role. escalate(): what an attacker would do once it holds the session's own role
# (VOLATILE: an IMMUTABLE function may not write), then it puts the session's role back, unseen. app_fold():
# IMMUTABLE and without arguments, so the planner runs it while it plans any statement that calls it. app_audit(): a
# trigger on contacts, a tenant table the acceptance checklist writes. Each leaves a trace only if it ran with more
# than the app's own privileges.
TRAP = """
CREATE TABLE app_trace (what text, by_role text);
CREATE FUNCTION escalate(what text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    was text := current_setting('role');
BEGIN
    PERFORM set_config('role', 'none', true);
    BEGIN
        INSERT INTO public.app_trace VALUES (what, current_user);
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    BEGIN
        EXECUTE format('COPY (SELECT %L) TO PROGRAM %L', what, 'cat >> {trace_file}');
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    BEGIN
        EXECUTE format('ALTER ROLE %I SUPERUSER', {app_role});
    EXCEPTION WHEN OTHERS THEN NULL;
    END;
    PERFORM set_config('role', was, true);  -- unseen: the session goes on as it was
END $$;
CREATE FUNCTION app_fold() RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    PERFORM public.escalate('folded by the planner');
    RETURN 1;
END $$;
CREATE FUNCTION app_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM public.escalate('trigger on ' || TG_TABLE_NAME);
    RETURN NEW;
END $$;
CREATE TRIGGER app_audit BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION app_audit();
"""
TRAP_STATEMENT = "SELECT id, thread_id FROM contacts WHERE id = app_fold()"


def install_trap(dsn: str, trace_file: Path) -> str:
    """The trap above, owned by the app's role (whose DSN is returned), and the app's statement that folds app_fold()
    run once by the app, so that pg_stat_statements holds it."""
    role = f"{database_name(dsn)}_app"
    with connection(dsn) as conn:
        conn.execute(sql.SQL(TRAP.replace("{trace_file}", str(trace_file)).replace(
            "{app_role}", sql.Literal(role).as_string(conn))))
        for function in ("escalate(text)", "app_fold()", "app_audit()"):
            conn.execute(sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(function), sql.Identifier(role)))
    with connection(f"{dsn} user={role}") as app_session:
        app_session.execute(TRAP_STATEMENT)
    return role


def traces(dsn: str, trace_file: Path, role: str) -> list[str]:
    """What the trap left: rows it wrote, the file it wrote on the server, the app's role made superuser."""
    with connection(dsn) as conn:
        found = [f"app_trace: {what} as {by}" for what, by in conn.execute("SELECT * FROM app_trace").fetchall()]
        if scalar(conn, "SELECT rolsuper FROM pg_roles WHERE rolname = %s", (role,)):
            found.append(f"{role} made superuser")
    if trace_file.exists():
        found.append(f"{trace_file}: {trace_file.read_text().strip()}")
    return found


def probe_roles(dsn: str) -> list[str]:
    with connection(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT rolname FROM pg_roles WHERE starts_with(rolname, %s)",
                                           (probe.PREFIX,))]


@pytest.fixture
def trap(app_db: str) -> Iterator[tuple[str, Path, str]]:
    """app_db with the trap; the file it would write is in a folder the server's OS user may write to."""
    folder = Path(tempfile.mkdtemp(prefix="tm-trace-"))
    folder.chmod(0o1777)
    trace_file = folder / "written-as-the-server"
    role = install_trap(app_db, trace_file)
    yield app_db, trace_file, role
    shutil.rmtree(folder)
    with connection(app_db) as conn:  # what app_db's clean-up (DROP OWNED BY the app's role) could not drop
        conn.execute(sql.SQL("ALTER ROLE {} NOSUPERUSER").format(sql.Identifier(role)))
        conn.execute("DROP TRIGGER app_audit ON contacts")


def test_check_compat_the_gates_and_the_acceptance_checklist_run_the_apps_code_without_our_privileges(trap):
    dsn, trace_file, role = trap
    cli = CliRunner()
    with connection(dsn) as conn:
        evictions = scalar(conn, "SELECT dealloc FROM pg_stat_statements_info")
    assert any("app_fold()" in s.query for s in read(dsn).statements), f"evictions: {evictions}"  # to be checked
    checked = cli.invoke(app, ["check", "--dsn", dsn])
    assert " fine, 0 unchecked, " in checked.output, checked.output  # app_fold() among the fine: planned
    compat = cli.invoke(app, ["compat", "--dsn", dsn])
    assert 1 == compat.exit_code, compat.output  # the upsert on phone_number breaks at phase 5: checked
    assert [] == traces(dsn, trace_file, role) and [] == probe_roles(dsn)
    phases = run_flow(migrate, database=dsn, to=1, approval="auto", backups=False, data_docs=False)
    assert [] == phases[0]["app_unchecked"]  # its gate checked them, on the database
    runner.migrate(dsn)  # the other phases, without the flow's cost
    lines = checklist.run_checklist(dsn, samples=3, load_tenants=2, load_seconds=0.3)
    assert [] == [x for x in lines if not x["ok"] and x["section"] != "Performance"]  # timings: not this test's
    assert [] == traces(dsn, trace_file, role) and [] == probe_roles(dsn)


def test_a_login_role_of_ours_is_dropped_after_a_failure_and_after_a_kill(legacy_db):
    app_role(legacy_db)
    role = f"{database_name(legacy_db)}_app"
    with pytest.raises(RuntimeError), probe.login_as(legacy_db, [role]) as dsn:
        with connection(dsn) as session:  # it logs in, and may act as the app's role
            session.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        assert 1 == len(probe_roles(legacy_db))
        raise RuntimeError("the check failed")
    assert [] == probe_roles(legacy_db)
    killed = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\nfrom tenant_migrate.probe import login_as\n"
        f"with login_as({legacy_db!r}, [{role!r}]):\n    print('in', flush=True)\n    time.sleep(120)")],
        cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    assert "in" == killed.stdout.readline().strip()  # type: ignore[union-attr]
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait()
    killed.stdout.close()  # type: ignore[union-attr]
    left = probe_roles(legacy_db)
    assert 1 == len(left)  # left by the killed run
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # its session ends once the server notices
        with connection(legacy_db) as conn:
            if probe.drop_stale(conn) == left:
                break
        time.sleep(0.2)
    assert [] == probe_roles(legacy_db)
    drop_app_roles(legacy_db)


def test_a_server_where_our_login_role_cannot_log_in_gets_one_line_and_the_statements_stay_unchecked(app_db):
    role = f"{database_name(app_db)}_app"
    with connection(app_db) as conn:
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
    if not os.access(hba, os.W_OK):
        pytest.skip("the test server's pg_hba.conf is not a file of this machine")
    original = hba.read_text()
    hba.write_text("".join(f"host all +{role} {net} reject\n" for net in ("127.0.0.1/32", "::1/128")) + original)
    try:
        with connection(app_db) as conn:
            conn.execute("SELECT pg_reload_conf()")
        time.sleep(0.3)  # the postmaster reloads asynchronously
        before = snapshot(app_db)
        result = CliRunner().invoke(app, ["check", "--dsn", app_db])
        with pytest.raises(MigrationError, match="cannot log in"):
            check_all(app_db, read(app_db).statements)
    finally:
        hba.write_text(original)
        with connection(app_db) as conn:
            conn.execute("SELECT pg_reload_conf()")
    assert 0 == result.exit_code, result.output
    app_lines = [line for line in result.output.splitlines() if line.strip().startswith("APP")]
    assert 1 == len(app_lines), result.output
    assert app_lines[0].strip().startswith(
        "APP     app statements not checked: a login role of ours (made to act as "), app_lines
    assert "pg_hba.conf" in app_lines[0] and "rejects connection" in app_lines[0], app_lines[0]
    assert before == snapshot(app_db) and [] == probe_roles(app_db)
