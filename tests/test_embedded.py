"""The embedded server: start, reuse, stop, and clear refusals that destroy nothing."""

import os
import socket

import pytest
from typer.testing import CliRunner

from tenant_migrate import embedded
from tenant_migrate.cli.main import app
from tenant_migrate.db import connection
from tenant_migrate.errors import MigrationError


def test_start_reuses_a_running_server(tmp_path):
    pgdata = tmp_path / "pgdata"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    first = embedded.start(pgdata, port)
    try:
        assert first == embedded.start(pgdata, port + 1)  # running: same server, same port
        with connection(first) as conn:
            assert conn.execute("SHOW max_wal_size").fetchone()[0] == "8GB"
    finally:
        assert embedded.stop(pgdata)
    assert not embedded.stop(pgdata)


def test_a_bin_folder_without_pg_ctl_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TENANT_MIGRATE_PG_BIN", str(tmp_path))
    with pytest.raises(MigrationError, match=f"^no pg_ctl in {tmp_path}: point TENANT_MIGRATE_PG_BIN at a PostgreSQL "):
        embedded.start(tmp_path / "pgdata", 1)
    assert not (tmp_path / "pgdata").exists()


@pytest.mark.skipif(not os.path.isfile("/usr/lib/postgresql/15/bin/pg_ctl"), reason="Debian's PostgreSQL 15 not here")
def test_the_private_server_runs_the_binaries_it_is_given(tmp_path, monkeypatch):
    monkeypatch.setenv("TENANT_MIGRATE_PG_BIN", "/usr/lib/postgresql/15/bin")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = embedded.start(tmp_path / "pgdata", port)
    try:
        with connection(server) as conn:
            assert conn.info.server_version // 10000 == 15
    finally:
        assert embedded.stop(tmp_path / "pgdata")


def test_port_taken_is_a_clear_error(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(MigrationError, match=f"port {port} on 127.0.0.1 is taken"):
            embedded.start(tmp_path / "pgdata", port)
    assert not embedded.is_running(tmp_path / "pgdata")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to hand the directory to another user")
def test_data_directory_owned_by_someone_else_is_refused_untouched(tmp_path):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("18\n")
    os.chown(pgdata, 65534, 65534)  # nobody
    with pytest.raises(MigrationError, match="is owned by nobody"):
        embedded.start(pgdata, 1)
    assert [p.name for p in pgdata.iterdir()] == ["PG_VERSION"]


def test_non_empty_directory_without_a_cluster_is_refused(tmp_path):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "notes.txt").write_text("mine")
    with pytest.raises(MigrationError, match="is not empty and holds no PostgreSQL cluster"):
        embedded.start(pgdata, 1)
    assert (pgdata / "notes.txt").read_text() == "mine"


def test_cli_errors_are_one_line_without_the_password():
    result = CliRunner().invoke(app, ["demo-db", "--dsn", "postgresql://u:hunter2@127.0.0.1:1/nowhere"])
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    assert result.output.startswith("error: cannot connect to u@127.0.0.1:1/nowhere")
    assert len(result.output.strip().splitlines()) == 1
