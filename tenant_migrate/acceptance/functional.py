"""The acceptance checklist's "Existing Functionality" and "New Functionality" sections."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg import sql

import backend_contract as bc
from tenant_migrate.acceptance.checks import Checks, acting_as, ensure, present, process_message
from tenant_migrate.acceptance.performance import timed
from tenant_migrate.db import one, row_counts, scalar
from tenant_migrate.paths import read_sql


def existing_functionality(checks: Checks, legacy_role: str | None) -> dict[str, Any]:
    """The plan's "Existing Functionality" lines, with the contract's legacy defaults (tenant 1)."""
    conn, section, phone = checks.conn, "Existing functionality", f"+1999{uuid.uuid4().int % 10**8:08d}"
    known = conn.execute("SELECT id, phone_number, thread_id FROM public.contacts WHERE thread_id IS NOT NULL "
                         "ORDER BY id LIMIT 1").fetchone()
    state: dict[str, Any] = {"admin_phone": known[1] if known else None}

    def receiving() -> str:
        with acting_as(conn, legacy_role):
            contact = bc.get_or_create_contact(conn, phone, "checklist")
            message = bc.log_message(conn, contact.id, "incoming", "hello")
        state["contact"] = contact.id
        return f"contact {contact.id} created, inbound message {message} logged"

    def responses() -> str:
        with acting_as(conn, legacy_role):
            ms = timed(lambda: process_message(conn, phone))
        return f"receive → log → reply logged in {ms:.1f} ms"

    def contacts() -> str:
        row = present(known, "no contact with a thread id to look up")
        with acting_as(conn, legacy_role):
            found = bc.get_or_create_contact(conn, row[1])
            again = bc.get_or_create_contact(conn, phone)
        ensure(found.id == row[0] and not found.created, f"lookup of {row[1]} gave contact {found.id}")
        ensure(again.id == state["contact"], "a new contact was not found again by its phone number")
        return f"existing contact {row[0]} found by phone; new contact {again.id} found again"

    def orders() -> str:
        with acting_as(conn, legacy_role):
            order = bc.create_order(conn, state["contact"], {"items": ["checklist"]})
            bc.update_order_status(conn, order, "shipped")
            status = bc.order_status(conn, order)
        ensure(status == "shipped", f"order {order} reads back as {status}")
        return f"order {order} created, status pending → shipped"

    def campaigns() -> str:
        with acting_as(conn, legacy_role):
            campaign = bc.create_campaign(conn, "checklist campaign", "hello {name}")
            added = bc.add_subscriber(conn, campaign, state["contact"])
        ensure(added, "subscriber not added")
        return f"campaign {campaign} created, contact {state['contact']} subscribed"

    def threads() -> str:
        row = present(known, "no contact with a thread id")
        with acting_as(conn, legacy_role):
            kept = bc.load_thread_id(conn, row[0])
            bc.save_thread_id(conn, state["contact"], f"thread-{phone}")
            saved = bc.load_thread_id(conn, state["contact"])
        ensure(kept == row[2], f"contact {row[0]} thread {kept!r}, expected {row[2]!r}")
        ensure(saved == f"thread-{phone}", f"saved thread reads back as {saved!r}")
        return f"contact {row[0]} keeps thread {row[2]}; a new thread saved and loaded"

    for item, check in (("WhatsApp message receiving works", receiving),
                        ("Message processing and responses work", responses),
                        ("Contact creation and management works", contacts),
                        ("Order creation and tracking works", orders),
                        ("Campaign management works", campaigns),
                        ("LangGraph conversation state maintained", threads)):
        checks.run(section, item, check)
    return state


def new_functionality(checks: Checks, rls: bool, admin_phone: str | None) -> None:
    """The plan's "New Functionality" lines, plus the database's own enforcement of isolation."""
    conn, section = checks.conn, "New functionality"
    app_role = "tenant_app" if rls else None
    tenant_b, bot_b = bc.create_tenant(conn, f"checklist-{uuid.uuid4().hex[:12]}@example.invalid",
                                       company_name="Checklist tenant B")
    b = {"user_id": tenant_b, "chatbot_id": bot_b}
    state: dict[str, Any] = {}

    def admin_sees_all() -> str:
        owner = row_counts(conn)
        with acting_as(conn, app_role, 1):
            seen = row_counts(conn)
        ensure(seen == owner, f"admin tenant sees {seen}, the tables hold {owner}")
        return "admin tenant sees every legacy row: " + ", ".join(f"{t} {n:,}" for t, n in seen.items())

    def second_tenant() -> str:
        phone = present(admin_phone, "no admin contact to share a phone number with")
        for rows in ("sample_rows", "sample_platform_rows"):  # the platform's side: as the checklist's own role
            conn.execute(read_sql(f"acceptance/{rows}.sql"), {"user_id": 1, "chatbot_id": 1})
        conn.execute(read_sql("acceptance/sample_platform_rows.sql"), b)
        with acting_as(conn, app_role, tenant_b):
            contact = bc.get_or_create_contact(conn, phone, "same number, other tenant", user_id=tenant_b,
                                               chatbot_id=bot_b)
            bc.log_message(conn, contact.id, "incoming", "hi", user_id=tenant_b, chatbot_id=bot_b)
            order = bc.create_order(conn, contact.id, {"items": ["b"]}, user_id=tenant_b, chatbot_id=bot_b)
            campaign = bc.create_campaign(conn, "b campaign", "hi", user_id=tenant_b, chatbot_id=bot_b)
            bc.add_subscriber(conn, campaign, contact.id, user_id=tenant_b)
            conn.execute(read_sql("acceptance/sample_rows.sql"), b)
        ensure(contact.created, f"tenant {tenant_b} did not get its own contact for {admin_phone}")
        state.update(contact=contact.id, order=order)
        return (f"tenant {tenant_b} created (users, subscription, chatbot {bot_b}); its contact {contact.id} has "
                f"the admin's phone number {admin_phone} without conflict")

    def isolation() -> str:
        ensure(rls, "row-level security (phase 8) is not applied: isolation rests on the application alone")
        ensure("contact" in state, "the second tenant's rows were not written")
        statements = checks.admin.execute(read_sql("acceptance/foreign_rows.sql"), {"user_id": tenant_b}).fetchall()
        with acting_as(conn, app_role, tenant_b):
            leaks = {t: one(conn, s) for t, s in statements}
            changed = conn.execute("UPDATE public.contacts SET name = 'leak' WHERE user_id = 1").rowcount
            try:
                with conn.transaction():
                    conn.execute("INSERT INTO public.contacts (phone_number, user_id, chatbot_id) VALUES ('+10', 1, 1)")
                refused = False
            except psycopg.errors.InsufficientPrivilege:
                refused = True
        empty = sorted(t for t, (_, own) in leaks.items() if not own)
        ensure(not empty, f"tenant {tenant_b} sees none of its own rows in {empty}")
        leaked = {t: n for t, (n, _) in leaks.items() if n}
        ensure(not leaked, f"tenant {tenant_b} sees other tenants' rows: {leaked}")
        ensure(changed == 0 and refused, f"tenant {tenant_b} changed {changed} admin rows / wrote as tenant 1")
        return (f"as tenant_app, tenant {tenant_b} sees 0 rows of other tenants in all {len(leaks)} tenant tables "
                "(and its own in each); its UPDATE of tenant 1's contacts hit 0 rows; writing as tenant 1 refused")

    def references() -> str:
        ensure("contact" in state, "the second tenant's rows were not written")
        refs = conn.execute(read_sql("acceptance/tenant_references.sql")).fetchall()
        ensure(bool(refs), "no foreign key between tenant tables carries the tenant (phase 5 not applied)")
        refused: list[str] = []
        untried: list[str] = []
        leaked: list[str] = []
        for table, column, referenced in refs:
            admin_row = scalar(conn, sql.SQL("SELECT min(id) FROM public.{} WHERE user_id = 1").format(
                sql.Identifier(referenced)))
            update = sql.SQL("UPDATE public.{t} SET {c} = %s WHERE id = (SELECT min(id) FROM public.{t} "
                             "WHERE user_id = %s)").format(t=sql.Identifier(table), c=sql.Identifier(column))
            try:
                with conn.transaction(), acting_as(conn, app_role, tenant_b):
                    hit = conn.execute(update, (admin_row, tenant_b)).rowcount
                (leaked if hit else untried).append(f"{table}.{column}")
            except psycopg.errors.ForeignKeyViolation:
                refused.append(f"{table}.{column}")
        ensure(not leaked, f"tenant {tenant_b} pointed its rows at tenant 1's through {leaked}")
        return (f"as {app_role or 'the owner'}, tenant {tenant_b} pointing its rows at tenant 1's was refused "
                f"through {len(refused)} of {len(refs)} references ({', '.join(refused)})"
                + (f"; {len(untried)} not tried, no row of its own yet: {', '.join(untried)}" if untried else ""))

    def legacy_confined() -> str:
        ensure(rls, "row-level security (phase 8) is not applied")
        ensure("contact" in state, "no second tenant contact with the admin's phone number")
        with acting_as(conn, "tenant_legacy"):
            found = conn.execute("SELECT id FROM public.contacts WHERE phone_number = %s", (admin_phone,)).fetchall()
        ensure(len(found) == 1 and found[0][0] != state["contact"], f"legacy lookup returned {found}")
        return f"legacy lookup by phone alone returns the admin's contact {found[0][0]} only"

    def usage() -> str:
        with acting_as(conn, app_role, tenant_b):
            counts = [scalar(conn, read_sql("acceptance/count_message.sql")) for _ in range(2)]
        ensure(counts[1] == counts[0] + 1, f"usage counter went {counts}")
        return (f"today's usage row of tenant {tenant_b} counted {counts[0]} → {counts[1]} inbound messages "
                "(through count_usage(): the counters are read-only to the tenant)")

    def analytics() -> str:
        with acting_as(conn, app_role, tenant_b):
            event = scalar(conn, read_sql("acceptance/analytics_event.sql"), {**b, "contact_id": state.get("contact")}
                                 )
        return f"analytics event {event} captured for tenant {tenant_b}"

    def actions() -> str:
        with acting_as(conn, app_role, tenant_b):
            action = present(conn.execute(read_sql("acceptance/action_request.sql"),
                                          {**b, "contact_id": state.get("contact")}).fetchone(),
                             "the action request was not stored as pending")
        return f"action {action[0]} requested (pending) for tenant {tenant_b}"

    for item, check in (("Admin user can access all features", admin_sees_all),
                        ("A second tenant is onboarded through the normal path", second_tenant),
                        ("Multi-tenant data isolation works (enforced by PostgreSQL)", isolation),
                        ("No row can reference another tenant's row (enforced by PostgreSQL)", references),
                        ("Legacy backend confined to the admin tenant", legacy_confined),
                        ("Usage tracking functions", usage),
                        ("Analytics events capture", analytics),
                        ("Actions Center ready for implementation", actions)):
        checks.run(section, item, check)
