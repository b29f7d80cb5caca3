"""The backend contract on a real database, before, during and after the migration, and the two hazards
of the legacy backend: its phone-number lookup across tenants, and its ON CONFLICT (phone_number) upsert.
"""

from __future__ import annotations

import psycopg
import pytest

from tenant_migrate import backend_contract as bc
from tenant_migrate import runner
from tenant_migrate.db import connection
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import ConflictError

LEGACY_LOOKUP = "SELECT id, thread_id FROM contacts WHERE phone_number = %s"
LEGACY_UPSERT = ("INSERT INTO contacts (phone_number, name) VALUES (%s, 'upsert') "
                 "ON CONFLICT (phone_number) DO UPDATE SET name = excluded.name RETURNING id")


def conversation(conn: psycopg.Connection, phone: str, **tenant: int) -> dict:
    """A customer writes, the bot answers, an order is placed and shipped, a campaign signs them up."""
    contact = bc.get_or_create_contact(conn, phone, "New customer", **tenant)
    assert contact.created
    assert contact.id == bc.get_or_create_contact(conn, phone, **tenant).id
    user = {k: v for k, v in tenant.items() if k == "user_id"}
    inbound = bc.log_message(conn, contact.id, "incoming", "hi, 2 pizzas please", **tenant)
    bc.log_message(conn, contact.id, "outgoing", "on their way", **tenant)
    order = bc.create_order(conn, contact.id, {"items": ["pizza", "pizza"]}, message_id=inbound, **tenant)
    bc.update_order_status(conn, order, "shipped", **user)
    campaign = bc.create_campaign(conn, f"promo {phone}", "20% off", **tenant)
    assert bc.add_subscriber(conn, campaign, contact.id, **user)
    assert not bc.add_subscriber(conn, campaign, contact.id, **user)
    bc.save_thread_id(conn, contact.id, f"thread-{phone}", **user)
    return {"contact": contact.id, "order": order, "status": bc.order_status(conn, order, **user),
            "thread": bc.load_thread_id(conn, contact.id, **user)}


@pytest.mark.parametrize("phase", [0, 2, 3, 4, 5, 8])
def test_legacy_calls_work_at_every_stage_of_the_migration(legacy_db: str, phase: int) -> None:
    if phase:
        runner.migrate(legacy_db, phase)
    with connection(legacy_db) as conn:
        seen = conversation(conn, f"+1555{phase:04d}")
        assert ("shipped", f"+1555{phase:04d}") == (seen["status"], seen["thread"][len("thread-"):])
        existing = conn.execute("SELECT id, phone_number, thread_id FROM contacts ORDER BY id LIMIT 1").fetchone()
        assert bc.Contact(*existing, created=False) == bc.get_or_create_contact(conn, existing[1])
    runner.migrate(legacy_db)
    with connection(legacy_db) as conn:
        assert (1, 1) == conn.execute(
            "SELECT user_id, chatbot_id FROM contacts WHERE id = %s", (seen["contact"],)).fetchone()
        assert 1 == conn.execute("SELECT user_id FROM orders WHERE id = %s", (seen["order"],)).fetchone()[0]


def test_a_tenant_other_than_the_admin_needs_the_multi_tenant_schema(legacy_db: str) -> None:
    with connection(legacy_db) as conn, pytest.raises(bc.UnknownTenant) as unknown:
        bc.get_or_create_contact(conn, "+15550000", user_id=2, chatbot_id=2)
    assert (2, True) == (unknown.value.user_id, unknown.value.single_tenant)


def test_second_tenant_gets_its_own_contact_for_the_same_phone_number(legacy_db: str) -> None:
    runner.migrate(legacy_db)
    with connection(legacy_db) as conn:
        admin_contact = conn.execute("SELECT id, phone_number FROM contacts ORDER BY id LIMIT 1").fetchone()
        b_user, b_bot = bc.create_tenant(conn, "b@example.com", company_name="Tenant B")
        mine = bc.get_or_create_contact(conn, admin_contact[1], user_id=b_user, chatbot_id=b_bot)
        assert mine.created and mine.id != admin_contact[0]
        assert admin_contact[0] == bc.get_or_create_contact(conn, admin_contact[1]).id
        seen = conversation(conn, "+15551234", user_id=b_user, chatbot_id=b_bot)
        with pytest.raises(bc.NotFound) as missing:
            bc.update_order_status(conn, seen["order"], "cancelled")  # the admin cannot touch B's order
        assert (f"order {seen['order']}", 1) == (missing.value.what, missing.value.user_id)
        with pytest.raises(bc.NotFound) as missing:
            bc.log_message(conn, mine.id, "incoming", "hi", user_id=b_user, chatbot_id=1)
        assert ("chatbot 1", b_user) == (missing.value.what, missing.value.user_id)


def test_legacy_lookup_is_confined_to_the_admin_tenant_only_under_row_level_security(legacy_db: str) -> None:
    """Hazard 1: the legacy lookup by phone alone finds another tenant's contact, unless phase 8 confines it."""
    runner.migrate(legacy_db, 7)
    with connection(legacy_db) as conn:
        admin_id, phone = conn.execute("SELECT id, phone_number FROM contacts ORDER BY id LIMIT 1").fetchone()
        b_user, b_bot = bc.create_tenant(conn, "b@example.com")
        bc.get_or_create_contact(conn, phone, user_id=b_user, chatbot_id=b_bot)
        assert 2 == len(conn.execute(LEGACY_LOOKUP, (phone,)).fetchall())  # the hazard, before phase 8
    runner.migrate(legacy_db)
    with connection(legacy_db) as conn, conn.transaction():
        conn.execute("SET LOCAL ROLE tenant_legacy")  # what the legacy backend's login role is granted
        assert [admin_id] == [r[0] for r in conn.execute(LEGACY_LOOKUP, (phone,))]


def test_legacy_upsert_on_phone_number_fails_after_phase_5_and_the_contract_does_not(legacy_db: str) -> None:
    """Hazard 2: ON CONFLICT (phone_number) needs a unique constraint on phone_number alone."""
    runner.migrate(legacy_db, 4)
    with connection(legacy_db) as conn:
        phone = conn.execute("SELECT phone_number FROM contacts ORDER BY id LIMIT 1").fetchone()[0]
        conn.execute(LEGACY_UPSERT, (phone,))
    runner.migrate(legacy_db, 5)
    with connection(legacy_db) as conn:
        with pytest.raises(psycopg.errors.InvalidColumnReference):
            conn.execute(LEGACY_UPSERT, (phone,))
        assert not bc.get_or_create_contact(conn, phone).created


def test_phase_8_refuses_while_a_login_role_would_be_locked_out(legacy_db: str) -> None:
    runner.migrate(legacy_db, 7)
    role = f"{database_name(legacy_db)}_app"
    with connection(legacy_db) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        try:
            conn.execute(f"GRANT SELECT ON contacts TO {role}")
            with pytest.raises(ConflictError) as refused:
                runner.migrate(legacy_db)
            assert [(8, "preflight")] == [(f.phase, f.object) for f in refused.value.findings if role in f.text]
            assert "pending" == runner.status(legacy_db)[7]["state"]
            conn.execute("DO $$ BEGIN CREATE ROLE tenant_legacy NOLOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
            conn.execute(f"GRANT tenant_legacy TO {role}")
            runner.migrate(legacy_db)
        finally:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")
