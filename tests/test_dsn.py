"""tenant_migrate/dsn.py: which database, its password out of sight, its name in logs."""

import os

import pytest

from tenant_migrate import dsn
from tenant_migrate.errors import MigrationError

WITH_PASSWORD = "postgresql://app:hunter2@db.internal:6543/shop?sslmode=require"


def test_describe_names_the_database_without_its_password():
    assert "app@db.internal:6543/shop" == dsn.describe(WITH_PASSWORD)


def test_a_malformed_dsn_is_one_line_without_the_password():
    with pytest.raises(MigrationError, match="invalid DSN") as caught:
        dsn.describe("postgresql://app:hunter2@db/shop?nonsense_option=1")
    assert "hunter2" not in str(caught.value) and "\n" not in str(caught.value)


def test_tools_get_the_password_in_their_environment_only():
    conninfo, env = dsn.tool_env(WITH_PASSWORD)
    assert "hunter2" not in conninfo and "db.internal" in conninfo and "sslmode=require" in conninfo
    assert "hunter2" == env["PGPASSWORD"]


def test_scrub_hides_the_password_in_any_text():
    assert "FATAL: password *** rejected" == dsn.scrub("FATAL: password hunter2 rejected", WITH_PASSWORD)
    assert "no password here" == dsn.scrub("no password here", "postgresql://app@db/shop")


def test_a_password_moves_to_this_process_environment_before_a_flow_stores_the_dsn(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    stored = dsn.password_to_environment(WITH_PASSWORD)
    assert "hunter2" not in stored and "hunter2" == os.environ["PGPASSWORD"]


def test_resolve_prefers_the_argument_then_database_url(monkeypatch):
    monkeypatch.setenv(dsn.DATABASE_URL_ENV, "postgresql://env@envhost/envdb")
    assert "postgresql://arg@arghost/argdb" == dsn.resolve("postgresql://arg@arghost/argdb")
    assert "postgresql://env@envhost/envdb" == dsn.resolve(None)
    assert "postgresql://env@envhost/envdb" == dsn.resolve("")


def test_a_flow_parameter_with_a_password_is_refused_without_showing_it():
    with pytest.raises(MigrationError, match="Prefect Secret block") as caught:
        dsn.resolve(WITH_PASSWORD, stored=True)
    assert "hunter2" not in str(caught.value)
    assert WITH_PASSWORD == dsn.resolve(WITH_PASSWORD)  # given on a command line it is used as it is


def test_without_argument_or_database_url_it_is_the_embedded_demo_database(monkeypatch, pg_server):
    monkeypatch.delenv(dsn.DATABASE_URL_ENV, raising=False)
    monkeypatch.setattr(dsn.embedded, "start", lambda: pg_server)
    assert dsn.embedded.DEMO_DATABASE == dsn.database_name(dsn.resolve(None))
