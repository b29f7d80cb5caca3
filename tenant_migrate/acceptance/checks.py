"""What every line of the acceptance checklist shares: the collector of lines, its transactions, acting as an
application role, the tenants it onboards."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from tenant_migrate import backend_contract as bc
from tenant_migrate.citus.readiness import is_citus
from tenant_migrate.db import scalar
from tenant_migrate.errors import first_line
from tenant_migrate.paths import read_sql

Line = dict[str, Any]


T = TypeVar("T")


class Checks:
    """Collects the checklist's lines; each check runs in a savepoint so one failure spoils nothing else. `conn`: the
    session of the checklist's own login role, where every write happens; `admin`: the migration's, which only
    reads (the ledger's list of tenant tables)."""

    def __init__(self, conn: psycopg.Connection, admin: psycopg.Connection) -> None:
        self.conn, self.admin, self.lines = conn, admin, list[Line]()

    def run(self, section: str, item: str, check: Callable[[], str]) -> None:
        try:
            with self.conn.transaction():
                evidence, ok = check(), True
        except Exception as exc:  # noqa: BLE001 - a failed check is a line of the report, not a crash
            evidence, ok = f"{type(exc).__name__}: {first_line(exc)}", False
        self.lines.append({"section": section, "check": item, "ok": ok, "evidence": evidence})


@contextmanager
def own_transaction(conn: psycopg.Connection, *, commit: bool = False) -> Iterator[None]:
    """A transaction of the checklist's, rolled back at its end unless `commit`. On a Citus coordinator it runs its
    statements over one connection per worker (citus.multi_shard_modify_mode 'sequential', as app_set_tenant does for
    the app's): after a read spread over parallel connections Citus refuses a write to a reference table (an owner
    table)."""
    with conn.transaction(force_rollback=not commit):
        if is_citus(conn):
            conn.execute("SET LOCAL citus.multi_shard_modify_mode TO 'sequential'")
        yield


def row_level_security_on(conn: psycopg.Connection) -> bool:
    return bool(scalar(conn, "SELECT relrowsecurity FROM pg_class WHERE oid = 'public.contacts'::regclass"
                             ))


@contextmanager
def acting_as(conn: psycopg.Connection, role: str | None, user_id: int | None = None) -> Iterator[None]:
    """Run the block as an application role (None: the current one) with its tenant named for the transaction
    (public.app_set_tenant, which phase 8 creates with the policies that read it; None: no tenant).

    On an error the caller's savepoint rollback undoes both settings; on success they are undone here.
    """
    if role:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    if user_id is not None and scalar(conn, "SELECT to_regprocedure('public.app_set_tenant(bigint)') IS NOT NULL"):
        conn.execute("SELECT public.app_set_tenant(%s)", (user_id,))
    else:  # before phase 8 no policy reads it: count_usage() takes the owner's value as it is
        conn.execute("SELECT set_config('app.tenant_id', %s, true)", ("" if user_id is None else str(user_id),))
    yield
    if role:
        conn.execute("RESET ROLE")


def ensure(condition: bool, problem: str) -> None:
    if not condition:
        raise AssertionError(problem)


def present(value: T | None, problem: str) -> T:
    """value, which the check needs; its absence fails the check with `problem`."""
    if value is None:
        raise AssertionError(problem)
    return value


def process_message(conn: psycopg.Connection, phone: str, user_id: int = bc.ADMIN_TENANT,
                    chatbot_id: int = bc.ADMIN_TENANT) -> bc.Contact:
    """What the backend does for one WhatsApp message: contact, log it, load the thread, log the reply."""
    contact = bc.get_or_create_contact(conn, phone, user_id=user_id, chatbot_id=chatbot_id)
    bc.log_message(conn, contact.id, "incoming", "what are your opening hours?", user_id=user_id, chatbot_id=chatbot_id)
    bc.load_thread_id(conn, contact.id, user_id=user_id)
    bc.log_message(conn, contact.id, "outgoing", "9 to 5, every day", user_id=user_id, chatbot_id=chatbot_id)
    return contact


CHECKLIST_EMAIL = "checklist-%s@example.invalid"  # .invalid is reserved (RFC 2606): never a real customer's address


def onboard(conn: psycopg.Connection) -> dict[str, int]:
    """A tenant of the checklist's, onboarded as the platform does it: the contract's create_tenant, then the rows
    that only the platform writes (sample_platform_rows.sql), the hash of its API key claimed first where a Citus
    cluster keeps it unique across tenants (claim_api_key.sql)."""
    user_id, chatbot_id = bc.create_tenant(conn, CHECKLIST_EMAIL % uuid.uuid4().hex[:12], company_name="Checklist")
    params = {"user_id": user_id, "chatbot_id": chatbot_id,
              "api_key_hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest()}
    if scalar(conn, "SELECT to_regclass('public.api_keys_api_key_hash_owner') IS NOT NULL"):
        conn.execute(read_sql("acceptance/claim_api_key.sql"), params)
    conn.execute(read_sql("acceptance/sample_platform_rows.sql"), params)
    return {"user_id": user_id, "chatbot_id": chatbot_id}


@contextmanager
def committed_tenants(conn: psycopg.Connection, admin: psycopg.Connection, count: int
                      ) -> Iterator[list[dict[str, int]]]:
    """`count` tenants onboarded and committed, then removed with every row they got: the checklist's way on a Citus
    coordinator, where a tenant's rows written as one role are refused to any other role of the same transaction
    (citusdata/citus#3867), so the platform's onboarding commits before the tenant's first transaction, as the app's
    must (docs/scale-out.md). Tenants an interrupted checklist left are removed first. `admin`, the migration's
    session, only reads the ledger's tenant tables (sql/acceptance/remove_tenant.sql)."""
    removal = [statement for (statement,) in admin.execute(read_sql("acceptance/remove_tenant.sql")).fetchall()]
    remove_checklist_tenants(conn, removal)
    with own_transaction(conn, commit=True):
        tenants = [onboard(conn) for _ in range(count)]
    try:
        yield tenants
    finally:
        remove_checklist_tenants(conn, removal)


def remove_checklist_tenants(conn: psycopg.Connection, removal: list[str]) -> None:
    """Every row of every tenant the checklist onboarded (known by its e-mail address), in one committed transaction."""
    with own_transaction(conn, commit=True):
        for (user_id,) in conn.execute("SELECT id FROM public.users WHERE email LIKE %s",
                                       (CHECKLIST_EMAIL % "%",)).fetchall():
            for statement in removal:
                conn.execute(statement, (user_id,))
