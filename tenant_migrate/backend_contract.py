"""The backend contract: the database calls of the WhatsApp automation backend, before, during and after
the migration.

Every call takes the tenant as keyword arguments that default to the admin tenant (`user_id=1,
chatbot_id=1`), so a legacy call site keeps working unchanged. Each call is one transaction (a
savepoint when the caller already has one open) that first names its tenant for that transaction
(`public.app_set_tenant`, once phase 8 created it: what its row-level security policies read), then
runs the SQL form the schema needs: `legacy` while the tables have no tenant columns, `tenant` from
then on (sql/backend/README.md). Through a pooler in transaction mode, connect with
`prepare_threshold=None` (docs/poolers.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

ADMIN_TENANT = 1
SQL_DIR = Path(__file__).resolve().parents[1] / "sql" / "backend"


class ContractError(Exception):
    """A call the database cannot serve as asked (unknown tenant, a contact of another tenant, ...)."""


class UnknownTenant(ContractError):
    """The call names a tenant other than the admin that does not exist (`single_tenant`: nor can it yet)."""

    def __init__(self, message: str, *, user_id: int, single_tenant: bool) -> None:
        super().__init__(message)
        self.user_id, self.single_tenant = user_id, single_tenant


class NotFound(ContractError):
    """The tenant has no such row (`what`: "order 12", "chatbot 3", ...): it is missing, or another tenant's."""

    def __init__(self, message: str, *, what: str, user_id: int) -> None:
        super().__init__(message)
        self.what, self.user_id = what, user_id


@dataclass(frozen=True)
class Contact:
    id: int
    phone_number: str
    thread_id: str | None
    created: bool


def name_tenant(conn: psycopg.Connection, user_id: int) -> None:
    """Name the transaction's tenant for row-level security (`public.app_set_tenant`, phase 8's, which on a Citus
    coordinator also reaches the workers: the same call on one server and on a cluster). Inside a transaction, first
    in it, once phase 8 is applied."""
    conn.execute(read_sql("set_tenant.sql"), {"user_id": user_id})


@contextmanager
def tenant_transaction(conn: psycopg.Connection, user_id: int, chatbot_id: int | None) -> Iterator[dict[str, Any]]:
    """A transaction scoped to one tenant; yields the SQL form ("legacy" or "tenant") to use in it, and the
    parameters every statement of that form takes (`unfilled`: rows may still lack their tenant)."""
    with conn.transaction():
        params = {"user_id": user_id, "chatbot_id": chatbot_id}
        tenant_columns, row_level_security, unfilled = _one(conn, "session.sql")
        tenant_exists, chatbot_ok = _tenant_ready(conn, params, row_level_security) if tenant_columns \
            else (False, False)
        if not tenant_exists and user_id != ADMIN_TENANT:
            raise UnknownTenant(f"tenant {user_id} does not exist" + (
                "" if tenant_columns else ": this database is still single-tenant (phase 2 not applied)"),
                user_id=user_id, single_tenant=not tenant_columns)
        if tenant_exists and not chatbot_ok:
            raise NotFound(f"chatbot {chatbot_id} does not belong to tenant {user_id}", what=f"chatbot {chatbot_id}",
                           user_id=user_id)
        # The admin tenant's rows are written without tenant ids until phase 3 creates it; phase 4 fills them in.
        yield {"form": "tenant" if tenant_exists else "legacy", "unfilled": unfilled, **params}


def _tenant_ready(conn: psycopg.Connection, params: dict[str, Any], row_level_security: bool) -> tuple[Any, ...]:
    """Does the tenant exist, and does the chatbot belong to it. Under row-level security the transaction's tenant
    is named first, in the same round trip (a pipeline): the two statements reach the server together."""
    if not row_level_security:
        return _one(conn, "tenant_ready.sql", params)
    with conn.pipeline():
        name_tenant(conn, params["user_id"])
        return _one(conn, "tenant_ready.sql", params)


def _call(conn: psycopg.Connection, name: str, params: dict[str, Any], *, user_id: int,
          chatbot_id: int | None = None) -> tuple | None:
    """Run one contract statement in its tenant's transaction; the first row it returns, if any."""
    with tenant_transaction(conn, user_id, chatbot_id) as session:
        return conn.execute(read_sql(f"{session['form']}/{name}.sql"), {**params, **session}).fetchone()


def get_or_create_contact(conn: psycopg.Connection, phone_number: str, name: str | None = None, *,
                          user_id: int = ADMIN_TENANT, chatbot_id: int = ADMIN_TENANT) -> Contact:
    """The tenant's contact of this phone number, created if new (safe against a concurrent create)."""
    params = {"phone_number": phone_number, "name": name, "user_id": user_id, "chatbot_id": chatbot_id}
    with tenant_transaction(conn, user_id, chatbot_id) as session:
        for statement, created in (("find_contact", False), ("insert_contact", True), ("find_contact", False)):
            if row := conn.execute(read_sql(f"{session['form']}/{statement}.sql"), {**params, **session}).fetchone():
                return Contact(row[0], row[1], row[2], created=created)
    raise ContractError(f"phone number {phone_number} is taken by another tenant's contact and this schema "
                        "allows one contact per phone number (phase 5 not applied yet)")


def log_message(conn: psycopg.Connection, contact_id: int, direction: str, content_text: str | None, *,
                message_type: str = "text", message_id: str | None = None, status: str | None = None,
                metadata: dict[str, Any] | None = None, user_id: int = ADMIN_TENANT,
                chatbot_id: int = ADMIN_TENANT) -> int:
    """Record an incoming or outgoing message; returns its id."""
    row = _call(conn, "log_message", {
        "contact_id": contact_id, "direction": direction, "content_text": content_text,
        "message_type": message_type, "message_id": message_id, "status": status,
        "metadata": Jsonb(metadata) if metadata is not None else None,
    }, user_id=user_id, chatbot_id=chatbot_id)
    return _found(row, f"contact {contact_id}", user_id)


def create_order(conn: psycopg.Connection, contact_id: int, order_details: dict[str, Any], *,
                 message_id: int | None = None, user_id: int = ADMIN_TENANT, chatbot_id: int = ADMIN_TENANT) -> int:
    row = _call(conn, "create_order", {
        "contact_id": contact_id, "order_details": Jsonb(order_details), "message_id": message_id,
    }, user_id=user_id, chatbot_id=chatbot_id)
    return _found(row, f"contact {contact_id}", user_id)


def update_order_status(conn: psycopg.Connection, order_id: int, status: str, *, user_id: int = ADMIN_TENANT) -> None:
    _found(_call(conn, "update_order_status", {"order_id": order_id, "status": status}, user_id=user_id),
           f"order {order_id}", user_id)


def order_status(conn: psycopg.Connection, order_id: int, *, user_id: int = ADMIN_TENANT) -> str | None:
    row = _call(conn, "order_status", {"order_id": order_id}, user_id=user_id)
    return row[0] if row else None


def create_campaign(conn: psycopg.Connection, name: str, message_template: str, *,
                    user_id: int = ADMIN_TENANT, chatbot_id: int = ADMIN_TENANT) -> int:
    row = _call(conn, "create_campaign", {"name": name, "message_template": message_template},
                user_id=user_id, chatbot_id=chatbot_id)
    return _found(row, "campaign", user_id)


def add_subscriber(conn: psycopg.Connection, campaign_id: int, contact_id: int, *,
                   user_id: int = ADMIN_TENANT) -> bool:
    """Subscribe a contact to a campaign of the same tenant; False if it was subscribed already."""
    return _call(conn, "add_subscriber", {"campaign_id": campaign_id, "contact_id": contact_id},
                 user_id=user_id) is not None


def save_thread_id(conn: psycopg.Connection, contact_id: int, thread_id: str, *, user_id: int = ADMIN_TENANT) -> None:
    """Keep the contact's LangGraph conversation thread."""
    _found(_call(conn, "save_thread_id", {"contact_id": contact_id, "thread_id": thread_id}, user_id=user_id),
           f"contact {contact_id}", user_id)


def load_thread_id(conn: psycopg.Connection, contact_id: int, *, user_id: int = ADMIN_TENANT) -> str | None:
    row = _call(conn, "load_thread_id", {"contact_id": contact_id}, user_id=user_id)
    return row[0] if row else None


def create_tenant(conn: psycopg.Connection, email: str, *, full_name: str | None = None,
                  company_name: str | None = None, chatbot_name: str = "Default Bot") -> tuple[int, int]:
    """Onboard a tenant (user, subscription, first chatbot) with ids from the sequences: (user_id, chatbot_id). On a
    distributed database (phase 9) the email is first claimed in users_email_owner, which keeps it unique across
    tenants.

    Onboarding is the platform's job: run it as the owner role, not as the application role.
    """
    with conn.transaction():
        kept_global = conn.execute("SELECT to_regclass('public.users_email_owner') IS NOT NULL").fetchone()
        claimed = _one(conn, "claim_email.sql", {"email": email})[0] if kept_global and kept_global[0] else None
        user_id, chatbot_id = _one(conn, "create_tenant.sql", {
            "user_id": claimed, "email": email, "full_name": full_name, "company_name": company_name,
            "chatbot_name": chatbot_name})
        return user_id, chatbot_id


def _one(conn: psycopg.Connection, name: str, params: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The row of a contract statement that always returns one."""
    row = conn.execute(read_sql(name), params).fetchone()
    if row is None:
        raise ContractError(f"{name} returned no row")
    return row


@cache
def read_sql(relative_path: str) -> str:
    """The text of a contract statement under sql/backend/."""
    return (SQL_DIR / relative_path).read_text(encoding="utf-8")


def _found(row: tuple | None, what: str, user_id: int) -> int:
    if row is None:
        raise NotFound(f"{what} not found for tenant {user_id}", what=what, user_id=user_id)
    return row[0]
