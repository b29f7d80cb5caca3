"""One PostgreSQL server per test session, and a fresh legacy database per test.

The server is the embedded one (a private data directory and port) unless TEST_DATABASE_URL
names another server; the tests create and drop their own databases on it.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator

import pytest
from psycopg import sql

from tasks import demo, embedded
from tasks.db import connection, with_database

TEST_SCALE = 0.05  # 500 contacts, 5,000 messages: every table has rows, every test stays fast
TEMPLATE = "tm_test_legacy_template"
_counter = itertools.count()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session", autouse=True)
def private_output_folders(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Backups and Data Docs of the tests go to temp folders, never to the project's."""
    os.environ["TENANT_MIGRATE_BACKUP_DIR"] = str(tmp_path_factory.mktemp("backups"))
    os.environ["TENANT_MIGRATE_REPORTS_DIR"] = str(tmp_path_factory.mktemp("reports"))


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """DSN of the session's server, connected to its maintenance database."""
    if url := os.environ.get("TEST_DATABASE_URL"):
        yield url
        return
    pgdata = tmp_path_factory.mktemp("embedded") / "pgdata"
    yield embedded.start(pgdata, _free_port())
    embedded.stop(pgdata)


@pytest.fixture(scope="session")
def legacy_template(pg_server: str) -> Iterator[str]:
    """Name of a template database holding the legacy schema with a little demo data."""
    demo.drop_database(pg_server, TEMPLATE)
    demo.load(demo.create_database(pg_server, TEMPLATE), TEST_SCALE)
    yield TEMPLATE
    demo.drop_database(pg_server, TEMPLATE)


@pytest.fixture
def empty_db(pg_server: str) -> Iterator[str]:
    """DSN of a new, empty database, dropped after the test."""
    name = f"tm_test_{os.getpid()}_{next(_counter)}"
    demo.drop_database(pg_server, name)
    with connection(pg_server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield with_database(pg_server, name)
    demo.drop_database(pg_server, name)


@pytest.fixture
def legacy_db(pg_server: str, legacy_template: str) -> Iterator[str]:
    """DSN of a fresh legacy database cloned from the template, dropped after the test."""
    name = f"tm_test_{os.getpid()}_{next(_counter)}"
    demo.drop_database(pg_server, name)
    with connection(pg_server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(legacy_template)))
    yield with_database(pg_server, name)
    demo.drop_database(pg_server, name)
