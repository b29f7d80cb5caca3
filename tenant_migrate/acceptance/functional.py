"""The acceptance checklist's "Existing Functionality" and "New Functionality" sections: each line a function of
what the section shares (Legacy, Tenants), run by Checks.run in a savepoint of its own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import psycopg
from psycopg import sql

from tenant_migrate import backend_contract as bc
from tenant_migrate.acceptance.checks import (
    Checks,
    acting_as,
    committed_tenants,
    ensure,
    onboard,
    own_transaction,
    present,
    process_message,
)
from tenant_migrate.acceptance.performance import timed
from tenant_migrate.citus.readiness import is_citus
from tenant_migrate.db import one, row_counts, scalar
from tenant_migrate.paths import read_sql


@dataclass
class Legacy:
    """The legacy backend, through the contract's legacy defaults (tenant 1): its role (None: no phase 8), a new
    phone number, a known contact with a thread id (id, phone, thread), and the contact the section creates."""

    conn: psycopg.Connection
    role: str | None
    phone: str = field(default_factory=lambda: f"+1999{uuid.uuid4().int % 10**8:08d}")
    known: tuple[Any, ...] | None = None
    contact: int | None = None


def existing_functionality(checks: Checks, legacy_role: str | None) -> dict[str, Any]:
    """The plan's "Existing Functionality" lines, with the contract's legacy defaults (tenant 1)."""
    legacy = Legacy(checks.conn, legacy_role)
    legacy.known = checks.conn.execute("SELECT id, phone_number, thread_id FROM public.contacts "
                                       "WHERE thread_id IS NOT NULL ORDER BY id LIMIT 1").fetchone()
    for item, check in (("WhatsApp message receiving works", receiving),
                        ("Message processing and responses work", responses),
                        ("Contact creation and management works", contacts),
                        ("Order creation and tracking works", orders),
                        ("Campaign management works", campaigns),
                        ("LangGraph conversation state maintained", threads)):
        checks.run("Existing functionality", item, partial(check, legacy))
    return {"admin_phone": legacy.known[1] if legacy.known else None}


def receiving(s: Legacy) -> str:
    with acting_as(s.conn, s.role):
        contact = bc.get_or_create_contact(s.conn, s.phone, "checklist")
        message = bc.log_message(s.conn, contact.id, "incoming", "hello")
    s.contact = contact.id
    return f"contact {contact.id} created, inbound message {message} logged"


def responses(s: Legacy) -> str:
    with acting_as(s.conn, s.role):
        ms = timed(lambda: process_message(s.conn, s.phone))
    return f"receive → log → reply logged in {ms:.1f} ms"


def contacts(s: Legacy) -> str:
    row = present(s.known, "no contact with a thread id to look up")
    with acting_as(s.conn, s.role):
        found = bc.get_or_create_contact(s.conn, row[1])
        again = bc.get_or_create_contact(s.conn, s.phone)
    ensure(found.id == row[0] and not found.created, f"lookup of {row[1]} gave contact {found.id}")
    ensure(again.id == s.contact, "a new contact was not found again by its phone number")
    return f"existing contact {row[0]} found by phone; new contact {again.id} found again"


def orders(s: Legacy) -> str:
    contact = present(s.contact, "no contact was created")
    with acting_as(s.conn, s.role):
        order = bc.create_order(s.conn, contact, {"items": ["checklist"]})
        bc.update_order_status(s.conn, order, "shipped")
        status = bc.order_status(s.conn, order)
    ensure(status == "shipped", f"order {order} reads back as {status}")
    return f"order {order} created, status pending → shipped"


def campaigns(s: Legacy) -> str:
    contact = present(s.contact, "no contact was created")
    with acting_as(s.conn, s.role):
        campaign = bc.create_campaign(s.conn, "checklist campaign", "hello {name}")
        added = bc.add_subscriber(s.conn, campaign, contact)
    ensure(added, "subscriber not added")
    return f"campaign {campaign} created, contact {contact} subscribed"


def threads(s: Legacy) -> str:
    row = present(s.known, "no contact with a thread id")
    contact = present(s.contact, "no contact was created")
    with acting_as(s.conn, s.role):
        kept = bc.load_thread_id(s.conn, row[0])
        bc.save_thread_id(s.conn, contact, f"thread-{s.phone}")
        saved = bc.load_thread_id(s.conn, contact)
    ensure(kept == row[2], f"contact {row[0]} thread {kept!r}, expected {row[2]!r}")
    ensure(saved == f"thread-{s.phone}", f"saved thread reads back as {saved!r}")
    return f"contact {row[0]} keeps thread {row[2]}; a new thread saved and loaded"


@dataclass
class Tenants:
    """The two tenants the section onboards: B, whose lines these are, and its neighbour C, so that every tenant table
    holds another tenant's rows (the admin tenant may have none in a supporting table). The application roles (empty:
    no phase 8), the admin's phone number that B and C each get a contact for, and what B wrote."""

    checks: Checks
    roles: dict[str, str]
    admin_phone: str | None
    b: dict[str, int]
    c: dict[str, int]
    written: dict[str, int] = field(default_factory=dict)

    @property
    def conn(self) -> psycopg.Connection:
        return self.checks.conn

    @property
    def rls(self) -> bool:
        return bool(self.roles)

    @property
    def app_role(self) -> str | None:
        return self.roles.get("tenant_app")

    @property
    def tenant_b(self) -> int:
        return self.b["user_id"]


def new_functionality(checks: Checks, roles: dict[str, str], admin_phone: str | None) -> None:
    """The plan's "New Functionality" lines, plus the database's own enforcement of isolation, for two tenants the
    platform onboards. On one server the section is one rolled-back transaction. On a Citus coordinator the
    onboarding and the second tenant's own writes commit (the tenants are removed at the end) and every other line is
    a rolled-back transaction of its own: Citus refuses a tenant's rows written as one role to any other role of the
    same transaction (committed_tenants)."""
    if not is_citus(checks.conn):
        with own_transaction(checks.conn):
            tenants = Tenants(checks, roles, admin_phone, onboard(checks.conn), onboard(checks.conn))
            for item, check in NEW_FUNCTIONALITY:
                checks.run("New functionality", item, partial(check, tenants))
        return
    with committed_tenants(checks.conn, checks.admin, 2) as (b, c):
        tenants = Tenants(checks, roles, admin_phone, b, c)
        for item, check in NEW_FUNCTIONALITY:
            with own_transaction(checks.conn, commit=check is second_tenant):
                checks.run("New functionality", item, partial(check, tenants))


def admin_sees_all(t: Tenants) -> str:
    owner = row_counts(t.conn)
    with acting_as(t.conn, t.app_role, 1):
        seen = row_counts(t.conn)
    ensure(seen == owner, f"admin tenant sees {seen}, the tables hold {owner}")
    return "admin tenant sees every legacy row: " + ", ".join(f"{table} {n:,}" for table, n in seen.items())


def second_tenant(t: Tenants) -> str:
    """B, then C, as the application role through the contract: a contact for the admin's phone number, a message, an
    order, a campaign, and a row in every supporting table the tenant writes (the platform's came with onboarding)."""
    phone = present(t.admin_phone, "no admin contact to share a phone number with")
    for tenant in (t.c, t.b):
        user_id = tenant["user_id"]
        with acting_as(t.conn, t.app_role, user_id):
            bot = tenant["chatbot_id"]
            contact = bc.get_or_create_contact(t.conn, phone, "same number, other tenant", user_id=user_id,
                                               chatbot_id=bot)
            bc.log_message(t.conn, contact.id, "incoming", "hi", user_id=user_id, chatbot_id=bot)
            order = bc.create_order(t.conn, contact.id, {"items": ["b"]}, user_id=user_id, chatbot_id=bot)
            campaign = bc.create_campaign(t.conn, "b campaign", "hi", user_id=user_id, chatbot_id=bot)
            bc.add_subscriber(t.conn, campaign, contact.id, user_id=user_id)
            t.conn.execute(read_sql("acceptance/sample_rows.sql"), tenant)
        ensure(contact.created, f"tenant {user_id} did not get its own contact for {phone}")
    t.written.update(contact=contact.id, order=order)
    return (f"tenant {t.tenant_b} created (users, subscription, chatbot {t.b['chatbot_id']}); its contact "
            f"{contact.id} has the admin's phone number {phone} without conflict")


def isolation(t: Tenants) -> str:
    ensure(t.rls, "row-level security (phase 8) is not applied: isolation rests on the application alone")
    ensure("contact" in t.written, "the second tenant's rows were not written")
    statements = t.checks.admin.execute(read_sql("acceptance/foreign_rows.sql"), {"user_id": t.tenant_b}).fetchall()
    held = {table: one(t.conn, statement)[1] for table, statement in statements}  # as the platform: every row
    with acting_as(t.conn, t.app_role, t.tenant_b):
        leaks = {table: one(t.conn, statement) for table, statement in statements}
        changed = t.conn.execute("UPDATE public.contacts SET name = 'leak' WHERE user_id = 1").rowcount
        try:
            with t.conn.transaction():
                t.conn.execute("INSERT INTO public.contacts (phone_number, user_id, chatbot_id) VALUES ('+10', 1, 1)")
            refused = False
        except psycopg.errors.InsufficientPrivilege:
            refused = True
    hidden = {table: f"{own} of {held[table]}" for table, (_, own) in leaks.items() if own != held[table]}
    ensure(not hidden, f"tenant {t.tenant_b} does not see all of its own rows: {hidden}")
    leaked = {table: n for table, (n, _) in leaks.items() if n}
    ensure(not leaked, f"tenant {t.tenant_b} sees other tenants' rows: {leaked}")
    ensure(changed == 0 and refused, f"tenant {t.tenant_b} changed {changed} admin rows / wrote as tenant 1")
    none = sorted(table for table, n in held.items() if not n)
    return (f"as tenant_app, tenant {t.tenant_b} sees 0 rows of other tenants in all {len(leaks)} tenant tables, "
            f"and all {sum(held.values())} of its own" + (f" (it holds none in {', '.join(none)})" if none else "")
            + "; its UPDATE of tenant 1's contacts hit 0 rows; writing as tenant 1 refused")


def references(t: Tenants) -> str:
    ensure("contact" in t.written, "the second tenant's rows were not written")
    refs = t.conn.execute(read_sql("acceptance/tenant_references.sql")).fetchall()
    ensure(bool(refs), "no foreign key between tenant tables carries the tenant (phase 5 not applied)")
    outcome: dict[str, list[str]] = {"refused": [], "untried": [], "leaked": []}
    others = {(table, column): scalar(t.conn, sql.SQL("SELECT min({}) FROM public.{} WHERE user_id = %s").format(
        sql.Identifier(key), sql.Identifier(referenced)), (t.c["user_id"],))
        for table, column, referenced, key in refs}  # all read before any write: Citus's one role per tenant's rows
    for table, column, _, _ in refs:
        if others[table, column] is None:
            outcome["untried"].append(f"{table}.{column}")
            continue
        update = sql.SQL("UPDATE public.{t} SET {c} = %s WHERE id = (SELECT min(id) FROM public.{t} "
                         "WHERE user_id = %s)").format(t=sql.Identifier(table), c=sql.Identifier(column))
        try:
            with t.conn.transaction(), acting_as(t.conn, t.app_role, t.tenant_b):
                hit = t.conn.execute(update, (others[table, column], t.tenant_b)).rowcount
            outcome["leaked" if hit else "untried"].append(f"{table}.{column}")
        except psycopg.errors.ForeignKeyViolation:
            outcome["refused"].append(f"{table}.{column}")
        except psycopg.errors.InsufficientPrivilege:  # the platform's table, which the tenant only reads
            outcome["refused"].append(f"{table}.{column} (not granted)")
    ensure(not outcome["leaked"],
           f"tenant {t.tenant_b} pointed its rows at tenant {t.c['user_id']}'s through {outcome['leaked']}")
    untried = outcome["untried"]
    acting = "tenant_app" if t.rls else "the owner"
    return (f"as {acting}, tenant {t.tenant_b} pointing its rows at tenant {t.c['user_id']}'s was refused "
            f"through {len(outcome['refused'])} of {len(refs)} references ({', '.join(outcome['refused'])})"
            + (f"; {len(untried)} not tried, no row of its own or of the other yet: {', '.join(untried)}"
               if untried else ""))


def legacy_confined(t: Tenants) -> str:
    ensure(t.rls, "row-level security (phase 8) is not applied")
    ensure("contact" in t.written, "no second tenant contact with the admin's phone number")
    with acting_as(t.conn, t.roles["tenant_legacy"]):
        found = t.conn.execute("SELECT id FROM public.contacts WHERE phone_number = %s", (t.admin_phone,)).fetchall()
    ensure(len(found) == 1 and found[0][0] != t.written["contact"], f"legacy lookup returned {found}")
    return f"legacy lookup by phone alone returns the admin's contact {found[0][0]} only"


def usage(t: Tenants) -> str:
    with acting_as(t.conn, t.app_role, t.tenant_b):
        counts = [scalar(t.conn, read_sql("acceptance/count_message.sql")) for _ in range(2)]
    ensure(counts[1] == counts[0] + 1, f"usage counter went {counts}")
    return (f"today's usage row of tenant {t.tenant_b} counted {counts[0]} → {counts[1]} inbound messages "
            "(through count_usage(): the counters are read-only to the tenant)")


def analytics(t: Tenants) -> str:
    with acting_as(t.conn, t.app_role, t.tenant_b):
        event = scalar(t.conn, read_sql("acceptance/analytics_event.sql"),
                       {**t.b, "contact_id": t.written.get("contact")})
    return f"analytics event {event} captured for tenant {t.tenant_b}"


def actions(t: Tenants) -> str:
    with acting_as(t.conn, t.app_role, t.tenant_b):
        action = present(t.conn.execute(read_sql("acceptance/action_request.sql"),
                                        {**t.b, "contact_id": t.written.get("contact")}).fetchone(),
                         "the action request was not stored as pending")
    return f"action {action[0]} requested (pending) for tenant {t.tenant_b}"


NEW_FUNCTIONALITY = (("Admin user can access all features", admin_sees_all),
                     ("A second tenant is onboarded through the normal path", second_tenant),
                     ("Multi-tenant data isolation works (enforced by PostgreSQL)", isolation),
                     ("No row can reference another tenant's row (enforced by PostgreSQL)", references),
                     ("Legacy backend confined to the admin tenant", legacy_confined),
                     ("Usage tracking functions", usage),
                     ("Analytics events capture", analytics),
                     ("Actions Center ready for implementation", actions))
