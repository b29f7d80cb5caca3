"""Sessions that act as an app role without the migration's privileges: where the app's code runs when we check it.

SET ROLE changes current_user only. Code of the app's that runs in a session of the migration's role (a function the
planner folds while it plans an app statement, a trigger fired by a write of the acceptance checklist) can take the
migration's role back with set_config('role', 'none', true), and with it superuser, COPY ... TO PROGRAM, the
ledger. So the app-statement check and the acceptance checklist run the app's code only in a session that *logs in*
as a role made for it (sql/probe/create.sql): LOGIN and nothing else, a member of the app role(s) it acts as and of
no other role, a random name and password (the server gets a SCRAM verifier), valid for a day at most, and (where
the migration's role may say so) statements pg_stat_statements does not record: they are ours, not the app's. It is
dropped on the way out, whatever happened; one left by a killed run (its creating session is gone) is dropped by the
next. A role that cannot log in (pg_hba.conf allows no password login from here) is one line, ProbeUnavailable:
the callers then leave the app's statements unchecked rather than run them in the migration's own session.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tenant_migrate.citus.readiness import is_citus
from tenant_migrate.db import APPLICATION_NAME, catalog_search_path, connection, scalar
from tenant_migrate.dsn import database_name, describe, scrub
from tenant_migrate.errors import MigrationError, first_line
from tenant_migrate.paths import read_sql

log = logging.getLogger("tenant_migrate.probe")
PREFIX = "tenant_migrate_probe_"  # then the creating session's backend pid and a random part (stale_roles.sql)
PROBE_APPLICATION_NAME = f"{APPLICATION_NAME}/probe"  # ours, to the guard
LIFETIME = timedelta(days=1)  # VALID UNTIL: a role no run could drop cannot log in after this


Grant = tuple[str, sql.Composable]  # privileges (written here, never from input) and what on: ("SELECT", TABLE x)


class ProbeUnavailable(MigrationError):
    """No login role of ours can be had on this server: it cannot be made, or cannot log in."""


class CannotActAs(ProbeUnavailable):
    """The migration's role may not make a login role of ours a member of this role (or the role does not exist)."""


def lendable(conn: psycopg.Connection, role: str) -> str:
    """Why a session of ours may not act as `role` ('' when it may): see sql/probe/lendable.sql."""
    return scalar(conn, read_sql("probe/lendable.sql"), {"role": role}) or ""


@contextmanager
def login_as(dsn: str, roles: Sequence[str], grants: Sequence[Grant] = ()) -> Iterator[str]:
    """The DSN of a new login role of ours, a member of `roles` and granted `grants` (revoked again on the way out),
    on the database of `dsn`; dropped on the way out. Raises ProbeUnavailable when it cannot be made (the migration's
    role lacks CREATEROLE) or cannot log in, CannotActAs when one of `roles` cannot be granted to it."""
    with connection(dsn) as admin:
        catalog_search_path(admin)
        drop_stale(admin)
        with _login_role(admin, dsn, roles, grants) as (name, password):
            probe = make_conninfo(dsn, user=name, password=password)
            _can_log_in(probe, dsn, roles)
            yield probe


@contextmanager
def stand_ins(dsn: str, roles: Sequence[str]) -> Iterator[dict[str, str]]:
    """The role a session of ours SETs ROLE to, to act as each of `roles`: the role itself on one server. On a Citus
    coordinator, a login role of ours per role (a member of that role only: the policies written TO it apply), dropped
    on the way out: Citus runs a statement's part on a worker in a session that logs in there as the current role, which
    the app's NOLOGIN roles cannot. Grant the returned roles to the session's login role (login_as)."""
    with connection(dsn) as admin:
        catalog_search_path(admin)
        if not is_citus(admin):
            yield {role: role for role in roles}
            return
        drop_stale(admin)
        with ExitStack() as made:
            yield {role: made.enter_context(_login_role(admin, dsn, [role], ()))[0] for role in roles}


@contextmanager
def _login_role(admin: psycopg.Connection, dsn: str, roles: Sequence[str],
                grants: Sequence[Grant]) -> Iterator[tuple[str, str]]:
    """A new login role of ours (its name and password), a member of `roles`, granted CONNECT on the database of `dsn`
    and `grants`; dropped on the way out."""
    name = f"{PREFIX}{admin.info.backend_pid}_{secrets.token_hex(4)}"
    password = secrets.token_urlsafe(24)
    granted = [("CONNECT", sql.SQL("DATABASE {}").format(sql.Identifier(database_name(dsn)))), *grants]
    _create(admin, sql.Identifier(name), name, password, roles, granted)
    try:
        yield name, password
    finally:
        _drop(admin, name, granted)


def _create(admin: psycopg.Connection, role: sql.Identifier, name: str, password: str, roles: Sequence[str],
            grants: Sequence[Grant]) -> None:
    """The role, its memberships and grants, in one transaction: all of it or nothing."""
    verifier = admin.pgconn.encrypt_password(password.encode(), name.encode()).decode()
    until = (datetime.now(UTC) + LIFETIME).isoformat()
    step = ""
    try:
        with admin.transaction():
            admin.execute(sql.SQL(read_sql("probe/create.sql")).format(
                role=role, password=sql.Literal(verifier), until=sql.Literal(until)))
            with contextlib.suppress(psycopg.Error), admin.transaction():  # a superuser's (or a granted) setting
                admin.execute(sql.SQL("ALTER ROLE {} SET pg_stat_statements.track = 'none'").format(role))
            for step in roles:
                admin.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(step), role))
            step = ""
            for privileges, target in grants:
                admin.execute(sql.SQL("GRANT {} ON {} TO {}").format(sql.SQL(privileges), target, role))
    except psycopg.Error as exc:
        if step:
            raise CannotActAs(f"cannot act as role {step}: {first_line(exc)}") from None
        raise ProbeUnavailable(f"cannot make a login role of ours ({_acting(roles)}): {first_line(exc)} "
                               f"(role {admin.info.user} needs CREATEROLE, and the right to grant what the role is "
                               "given)") from None


def _can_log_in(probe: str, dsn: str, roles: Sequence[str]) -> None:
    try:
        psycopg.connect(probe, connect_timeout=10, application_name=PROBE_APPLICATION_NAME).close()
    except psycopg.OperationalError as exc:
        reason = scrub(first_line(exc).rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip(), probe)
        raise ProbeUnavailable(f"a login role of ours ({_acting(roles)}) cannot log in to "
                               f"{describe(dsn).split('@', 1)[1]}: {reason}: the app's code runs only in such a "
                               "session, never in the migration's; allow password logins from here in pg_hba.conf "
                               "(a host line with scram-sha-256 for this database), or check on a copy (the nightly "
                               "dry run)") from None


def _acting(roles: Sequence[str]) -> str:
    return f"made to act as {', '.join(roles)}" if roles else "made for the acceptance checklist"


def _drop(admin: psycopg.Connection, name: str, grants: Sequence[Grant]) -> None:
    """End the role's sessions, revoke what it was granted, drop it; a failure is logged, never raised over the
    caller's own outcome (the role cannot log in after a day, and the next run drops it)."""
    role = sql.Identifier(name)
    try:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,))
        for privileges, target in grants:
            admin.execute(sql.SQL("REVOKE {} ON {} FROM {}").format(sql.SQL(privileges), target, role))
        admin.execute(sql.SQL("DROP ROLE {}").format(role))
    except psycopg.Error as exc:
        log.warning("the login role %s of this check is left: %s (it cannot log in after a day; the next check "
                    "drops it)", name, first_line(exc))


def drop_stale(admin: psycopg.Connection) -> list[str]:
    """Drop the login roles of ours left by killed runs (sql/probe/stale_roles.sql); returns their names."""
    dropped = []
    for (name,) in admin.execute(read_sql("probe/stale_roles.sql")).fetchall():
        with contextlib.suppress(psycopg.Error), admin.transaction():
            admin.execute(sql.SQL("DROP OWNED BY {0}; DROP ROLE {0}").format(sql.Identifier(name)))
            dropped.append(name)
    if dropped:
        log.info("dropped %d login role(s) left by a killed check: %s", len(dropped), ", ".join(dropped))
    return dropped
