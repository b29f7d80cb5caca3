"""Every DSN goes through here: which database to use, its password kept out of sight, and how it is named in logs.

A DSN is a libpq connection string (URL or key=value). Its password never reaches a log, an error
message, a command line, a Prefect flow parameter or the ledger: tools get it in PGPASSWORD, logs get
`user@host:port/dbname` from describe(), any text that might hold it goes through scrub().
"""

from __future__ import annotations

import os

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tenant_migrate import embedded
from tenant_migrate.errors import MigrationError, first_line

DATABASE_URL_ENV = "DATABASE_URL"


def is_dsn(text: str) -> bool:
    """A connection string rather than the name of a Prefect Secret block."""
    return "://" in text or "=" in text


def _parts(dsn: str) -> dict[str, str]:
    try:
        return {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    except psycopg.ProgrammingError as exc:
        raise MigrationError(f"invalid DSN: {scrub(first_line(exc), dsn)}") from None


def describe(dsn: str) -> str:
    """user@host:port/dbname for logs: never the password."""
    parts = _parts(dsn)
    host = parts.get("host") or "localhost"
    port = parts.get("port") or "5432"
    return f"{parts.get('user') or os.environ.get('PGUSER', '')}@{host}:{port}/{parts.get('dbname', '')}"


def with_database(dsn: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    return make_conninfo(dsn, dbname=dbname)


def database_name(dsn: str) -> str:
    return _parts(dsn).get("dbname", "")


def password(dsn: str) -> str | None:
    return _parts(dsn).get("password")


def without_password(dsn: str) -> str:
    parts = _parts(dsn)
    parts.pop("password", None)
    return make_conninfo("", **parts)


def tool_env(dsn: str, application_name: str | None = None) -> tuple[str, dict[str, str]]:
    """For a client tool (pg_dump, psql): the conninfo without the password, and an environment holding it
    in PGPASSWORD (and the application_name its sessions show, if given)."""
    env = dict(os.environ)
    if application_name:
        env["PGAPPNAME"] = application_name
    if secret := password(dsn):
        env["PGPASSWORD"] = secret
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return without_password(dsn), env


def scrub(text: str, dsn: str) -> str:
    """text with the DSN's password, if any, replaced by ***."""
    try:
        secret = conninfo_to_dict(dsn).get("password")
    except psycopg.ProgrammingError:
        return text
    return text.replace(str(secret), "***") if secret else text


def password_to_environment(dsn: str) -> str:
    """The DSN without its password, which goes to this process's PGPASSWORD (libpq and pg_dump read it
    there): for a DSN that a flow will store among its parameters."""
    if secret := password(dsn):
        os.environ["PGPASSWORD"] = secret
        return without_password(dsn)
    return dsn


def resolve(database: str | None = None, *, stored: bool = False) -> str:
    """The DSN of the database to work on: `database` (a DSN, or the name of a Prefect Secret block holding
    one), else $DATABASE_URL, else the embedded server's demo database (started on demand).

    stored: `database` is a flow parameter, which Prefect stores and shows; a DSN with a password is refused
    there (put it in a Secret block, or in PGPASSWORD).
    """
    if database:
        if not is_dsn(database):
            return _secret(database)
        if stored and password(database):
            raise MigrationError("a DSN with a password would be stored in the flow run's parameters: put it in "
                                 "a Prefect Secret block and pass the block's name")
        describe(database)  # a malformed DSN fails here, in one line
        return database
    if from_environment := os.environ.get(DATABASE_URL_ENV):
        describe(from_environment)
        return from_environment
    return with_database(embedded.start(), embedded.DEMO_DATABASE)


def _secret(block_name: str) -> str:
    from prefect.blocks.system import Secret  # noqa: PLC0415 - only where a block is named

    try:
        value = Secret.load(block_name).get()  # type: ignore[union-attr]  # sync context: no coroutine
    except ValueError:
        raise MigrationError(f"no Prefect Secret block named {block_name!r}: create it or pass a DSN") from None
    if not isinstance(value, str) or not is_dsn(value):
        raise MigrationError(f"Prefect Secret block {block_name!r} does not hold a DSN")
    return value
