"""tenant_migrate/cli/compat.py: `tenant-migrate compat`, its output, exit code and bad input."""

from __future__ import annotations

import json

import pytest
import typer
from conftest import snapshot
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from tenant_migrate.cli import compat as compat_commands

PASSWORD = "s3cret-Pa55word"  # the test servers trust local connections: any password is accepted


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    compat_commands.register(app)
    app.command("other")(lambda: None)  # two commands: typer then takes the command's name as its first argument
    return app


def test_a_statement_that_breaks_exits_1_and_each_finding_is_one_line_without_the_password(cli, app_db):
    before = snapshot(app_db)
    out = CliRunner().invoke(cli, ["compat", "--dsn", make_conninfo(app_db, password=PASSWORD)])
    assert 1 == out.exit_code, out.output
    lines = out.stdout.splitlines()
    assert [x for x in lines if x.startswith("breaks at phase 5 05_update_constraints: INSERT INTO contacts")]
    assert lines[-1].startswith("tm_test_") and " 1 breaking, " in lines[-1]
    assert PASSWORD not in out.output
    assert before == snapshot(app_db)


def test_json_output_says_whether_something_breaks(cli, app_db):
    out = CliRunner().invoke(cli, ["compat", "--dsn", app_db, "--json"])
    result = json.loads(out.stdout)
    assert (1, True) == (out.exit_code, result["breaks"])
    assert result["lines"][-1].endswith("transaction or session statements (unaffected)")


def test_without_pg_stat_statements_it_says_so_in_one_line_and_exits_0(cli, legacy_db):
    out = CliRunner().invoke(cli, ["compat", "--dsn", legacy_db])
    assert 0 == out.exit_code, out.output
    assert 1 == len(out.stdout.splitlines())
    assert out.stdout.startswith("app statements not checked: pg_stat_statements is not installed in database")


def test_an_unreachable_database_is_one_error_line(cli):
    out = CliRunner().invoke(cli, ["compat", "--dsn", f"postgresql://someone:{PASSWORD}@127.0.0.1:1/nowhere"])
    assert 1 == out.exit_code
    assert 1 == len(out.stderr.splitlines()) and out.stderr.startswith("error: cannot connect to ")
    assert PASSWORD not in out.output


def test_check_lists_the_app_statements_that_break_beside_the_conflicts_and_exits_1(app_db):
    """`tenant-migrate check` on a database without conflicts: the plan's part is clean, the app's upsert breaks at
    phase 5, so the check exits 1; with --no-app-statements it is the plan's check alone (exit 0)."""
    from tenant_migrate.cli.main import app

    before = snapshot(app_db)
    out = CliRunner().invoke(app, ["check", "--dsn", app_db])
    assert 1 == out.exit_code, out.output
    lines = out.stdout.splitlines()
    assert " 0 conflicts, " in lines[0]
    assert [x for x in lines if x.startswith("  APP     breaks at phase 5 05_update_constraints: INSERT INTO contacts")]
    assert [x for x in lines if x.startswith("  APP     changes meaning at phase 5")]
    assert before == snapshot(app_db)
    alone = CliRunner().invoke(app, ["check", "--dsn", app_db, "--no-app-statements", "--json"])
    assert (0, [], False) == (alone.exit_code, json.loads(alone.stdout)["app_statements"],
                              json.loads(alone.stdout)["app_breaks"])


def test_check_without_pg_stat_statements_says_so_in_one_line_and_exits_0(legacy_db):
    from tenant_migrate.cli.main import app

    out = CliRunner().invoke(app, ["check", "--dsn", legacy_db])
    assert 0 == out.exit_code, out.output
    assert 1 == sum(x.startswith("  APP     app statements not checked: pg_stat_statements is not installed")
                    for x in out.stdout.splitlines())
