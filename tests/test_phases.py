"""Each phase's SQL against a real legacy database: it applies, its objects are there, its rollback
returns the exact schema it started from (the catalog shape), and it applies again after that.
Also: all the way up and down, and a legacy database whose unique constraints have other names.
"""

from __future__ import annotations

import psycopg
import pytest

from tenant_migrate import runner
from tenant_migrate.db import catalog_shape, connection, row_counts
from tenant_migrate.plan import default_target, load_plan

TENANT_TABLES = ("contacts", "messages", "orders", "campaigns")
SUPPORTING_TABLES = ("actions", "order_items", "products", "usage_tracking", "monthly_usage_summary",
                     "analytics_events", "api_keys", "webhooks", "bot_knowledge_base", "conversation_instructions")


def one(conn: psycopg.Connection, query: str, *params):
    return conn.execute(query, params).fetchone()[0]


def columns(conn: psycopg.Connection, table: str) -> dict[str, tuple[bool, str | None]]:
    """column -> (NOT NULL, default) of a public table."""
    rows = conn.execute(
        "SELECT column_name, is_nullable = 'NO', column_default FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = %s", (table,)).fetchall()
    return {name: (not_null, default) for name, not_null, default in rows}


def constraints(conn: psycopg.Connection, table: str) -> dict[str, tuple[str, bool, str]]:
    """name -> (type, validated, definition) of a public table's constraints."""
    rows = conn.execute(
        "SELECT conname, contype::text, convalidated, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = to_regclass('public.' || quote_ident(%s))", (table,)).fetchall()
    return {name: (kind, valid, definition) for name, kind, valid, definition in rows}


def indexes(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}


def single_column_uniques(conn: psycopg.Connection, column: str) -> list[str]:
    """Unique indexes (of constraints or not) on contacts(<column>) alone."""
    return [r[0] for r in conn.execute(
        "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]"
        " WHERE x.indrelid = 'public.contacts'::regclass AND x.indisunique AND x.indnkeyatts = 1"
        " AND a.attname = %s", (column,))]


def check_phase_1(conn, notes, way):
    for table in ("users", "user_subscriptions", "chatbots"):
        assert columns(conn, table), table
    assert columns(conn, "users")["email"][0]
    assert "UNIQUE (email)" in {c[2] for c in constraints(conn, "users").values()}
    assert "UNIQUE (whatsapp_phone_number)" in {c[2] for c in constraints(conn, "chatbots").values()}
    for table in ("user_subscriptions", "chatbots"):
        fks = [c[2] for c in constraints(conn, table).values() if c[0] == "f"]
        assert fks == ["FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE"], fks


def check_phase_2(conn, notes, way):
    default = "1" if way == "instant" else None
    for table in TENANT_TABLES:
        cols = columns(conn, table)
        assert cols["user_id"] == (False, default) and cols["chatbot_id"] == (False, default), cols
        assert not {f"{table}_user_id_fkey", f"{table}_chatbot_id_fkey"} & set(constraints(conn, table))  # phase 4
        nulls = one(conn, f"SELECT count(*) FROM {table} WHERE user_id IS NULL")
        assert (nulls == 0) == (way == "instant")  # instant: every row reads tenant 1 already
    assert {"tags", "custom_fields", "last_interaction"} <= set(columns(conn, "contacts"))
    assert columns(conn, "messages")["is_from_human"] == (True, "false")
    assert constraints(conn, "orders")["orders_order_number_key"][2] == "UNIQUE (order_number)"
    assert columns(conn, "campaign_subscribers")["user_id"] == (False, default)  # its own tenant id (phase 5 keys)


def check_phase_3(conn, notes, way):
    assert one(conn, "SELECT email FROM users WHERE id = 1") == "admin@swiftreplies.ai"
    assert one(conn, "SELECT daily_message_limit FROM user_subscriptions WHERE user_id = 1") == 999999
    assert one(conn, "SELECT user_id FROM chatbots WHERE id = 1") == 1
    for table in ("users", "user_subscriptions", "chatbots"):  # the next default id is past the explicit 1
        assert one(conn, "SELECT pg_sequence_last_value(pg_get_serial_sequence(%s, 'id'))", table) == 1


def check_phase_4(conn, notes, way):
    for table in TENANT_TABLES:
        assert one(conn, f"SELECT count(*) FROM {table} WHERE user_id IS NULL OR chatbot_id IS NULL") == 0
        cols = columns(conn, table)
        assert cols["user_id"] == (True, "1") and cols["chatbot_id"] == (True, "1"), cols  # NOT NULL, by the check
        assert not [n for n in constraints(conn, table) if n.endswith("_not_null_check")]  # dropped once used
        fks = {name: c for name, c in constraints(conn, table).items() if c[0] == "f"}
        assert fks[f"{table}_user_id_fkey"][1:] == (True, "FOREIGN KEY (user_id) REFERENCES users(id)")
        assert fks[f"{table}_chatbot_id_fkey"][1:] == (
            True, "FOREIGN KEY (user_id, chatbot_id) REFERENCES chatbots(user_id, id)")  # its tenant's chatbot only
    assert one(conn, "SELECT count(*) FROM campaign_subscribers WHERE user_id IS DISTINCT FROM 1") == 0
    backfilled = [n for n in notes if "rows of" in n and "batches" in n]
    assert bool(backfilled) == (way == "batched"), notes  # the instant way rewrites no row
    skipped = [n for n in notes if "_sweep_" in n and "skipped" in n]  # the validation proved there is no NULL
    assert len(skipped) == (5 if way == "instant" else 0), notes


def check_phase_5(conn, notes, way):
    for table in TENANT_TABLES:
        cols = columns(conn, table)
        assert cols["user_id"][0] and cols["chatbot_id"][0], table
        assert not [n for n in constraints(conn, table) if n.endswith("_not_null_check")]
    contacts = constraints(conn, "contacts")
    assert contacts["unique_contact_per_user"][2] == "UNIQUE (user_id, phone_number)"
    assert contacts["unique_thread_per_user"][2] == "UNIQUE (user_id, thread_id)"
    assert single_column_uniques(conn, "phone_number") == [] == single_column_uniques(conn, "thread_id")
    assert one(conn, "SELECT count(*) FROM tenant_migrate.saved_objects WHERE phase = 5 AND (kind = 'index' "
                     "OR starts_with(definition, 'UNIQUE'))") == 2
    references = {(t, c[2]) for t in ("messages", "orders", "campaign_subscribers")
                  for c in constraints(conn, t).values() if c[0] == "f" and "REFERENCES users" not in c[2]
                  and "REFERENCES chatbots" not in c[2]}
    assert references == {  # the app's single-column references replaced by ones that carry the tenant
        ("messages", "FOREIGN KEY (user_id, contact_id) REFERENCES contacts(user_id, id)"),
        ("orders", "FOREIGN KEY (user_id, contact_id) REFERENCES contacts(user_id, id)"),
        ("orders", "FOREIGN KEY (user_id, message_id) REFERENCES messages(user_id, id)"),
        ("campaign_subscribers", "FOREIGN KEY (user_id, campaign_id) REFERENCES campaigns(user_id, id)"),
        ("campaign_subscribers", "FOREIGN KEY (user_id, contact_id) REFERENCES contacts(user_id, id)")}
    conn.execute("SET enable_seqscan = off")  # at test scale the planner would scan anyway
    for column in ("phone_number", "thread_id"):  # the legacy lookups keep an index led by their column
        plan = "\n".join(r[0] for r in conn.execute(f"EXPLAIN SELECT id FROM contacts WHERE {column} = 'x'"))
        assert f"idx_contacts_{column}" in plan, plan
    conn.execute("RESET enable_seqscan")


def check_phase_6(conn, notes, way):
    for table in SUPPORTING_TABLES:
        cols = columns(conn, table)
        assert cols["user_id"][0], table
        assert "FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE" in {
            c[2] for c in constraints(conn, table).values()}, table
    uniques = {t: {c[2] for c in constraints(conn, t).values() if c[0] == "u"}
               for t in ("products", "usage_tracking", "monthly_usage_summary")}
    assert "UNIQUE (user_id, sku)" in uniques["products"]
    assert "UNIQUE (user_id, tracking_date)" in uniques["usage_tracking"]
    assert "UNIQUE (user_id, year, month)" in uniques["monthly_usage_summary"]
    assert "api_key" not in columns(conn, "api_keys")
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute("INSERT INTO api_keys (user_id, key_name, api_key_hash) VALUES (1, 'k', 'sk_live_plaintext')")
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute("INSERT INTO actions (user_id, request_type, status) VALUES (1, 'refund', 'maybe')")


def check_phase_7(conn, notes, way):
    built = {"idx_messages_sent_at",
             "idx_actions_status", "idx_analytics_events_user_type", "idx_contacts_chatbot_id",
             "idx_messages_chatbot_id", "idx_orders_chatbot_id", "idx_actions_user_status",
             "idx_chatbots_user_active", "idx_orders_user_status_created"}
    skipped = {"idx_contacts_user_id", "idx_contacts_user_phone", "idx_contacts_user_thread",
               "idx_usage_tracking_user_date", "idx_actions_user_id", "idx_orders_user_id",
               "idx_messages_user_id", "idx_campaigns_user_id"}  # led by user_id: phase 5's (user_id, id) keys
    assert built <= indexes(conn)
    assert not skipped & indexes(conn)
    assert "skipped idx_contacts_user_phone: covered by unique_contact_per_user" in notes
    assert "skipped idx_actions_user_id: covered by idx_actions_user_status" in notes
    assert one(conn, "SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0


def check_phase_8(conn, notes, way):
    unprotected = conn.execute(
        "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE n.nspname = 'public' AND c.relkind = 'r'"
        " AND NOT (c.relrowsecurity AND c.relforcerowsecurity)").fetchall()
    assert [] == unprotected  # every public table is a tenant table
    assert "row-level security on public.contacts" in notes
    assert one(conn, "SELECT provolatile FROM pg_proc WHERE proname = 'app_current_tenant'") == "s"
    contacts = one(conn, "SELECT count(*) FROM contacts")
    with conn.transaction():
        conn.execute("SET LOCAL ROLE tenant_app")
        assert 0 == one(conn, "SELECT count(*) FROM contacts")  # no tenant set: no rows
        conn.execute("SELECT set_config('app.tenant_id', '1', true)")
        assert 0 == one(conn, "SELECT count(*) FROM contacts")  # a plain value, not bound to the transaction
        conn.execute("SELECT public.app_set_tenant(1)")
        assert contacts == one(conn, "SELECT count(*) FROM contacts")
    with conn.transaction():
        conn.execute("SET LOCAL ROLE tenant_legacy")
        assert contacts == one(conn, "SELECT count(*) FROM contacts")  # the legacy default: tenant 1


CHECKS = {1: check_phase_1, 2: check_phase_2, 3: check_phase_3, 4: check_phase_4, 5: check_phase_5,
          6: check_phase_6, 7: check_phase_7, 8: check_phase_8}


def test_every_phase_has_a_check():
    assert sorted(CHECKS) == [p.number for p in load_plan()[:default_target()]]  # 9: tests/test_citus.py


PHASES_AND_WAYS = [(n, "instant") for n in sorted(CHECKS)] + [(n, "batched") for n in (2, 3, 4)]


@pytest.mark.parametrize(("number", "way"), PHASES_AND_WAYS, ids=lambda v: str(v))
def test_phase_applies_rolls_back_to_the_same_catalog_shape_and_applies_again(legacy_db, number, way):
    settings = runner.Settings(backfill=way)
    if number > 1:
        runner.migrate(legacy_db, to=number - 1, settings=settings)
    with connection(legacy_db) as conn:
        before, counts = catalog_shape(conn), row_counts(conn)
    [outcome] = runner.migrate(legacy_db, to=number, settings=settings)
    with connection(legacy_db) as conn:
        CHECKS[number](conn, outcome.notes, way)
    runner.rollback(legacy_db, number - 1)
    with connection(legacy_db) as conn:
        assert catalog_shape(conn) == before
        assert row_counts(conn) == counts
    [again] = runner.migrate(legacy_db, to=number, settings=settings)
    assert again.status == "applied"
    with connection(legacy_db) as conn:
        CHECKS[number](conn, again.notes, way)


def test_all_the_way_up_and_down_returns_the_legacy_schema_and_rows(legacy_db):
    with connection(legacy_db) as conn:
        before, counts = catalog_shape(conn), row_counts(conn)
    assert [o.phase for o in runner.migrate(legacy_db)] == sorted(CHECKS)
    runner.rollback(legacy_db, 0)
    with connection(legacy_db) as conn:
        assert catalog_shape(conn) == before
        assert row_counts(conn) == counts


def test_uniques_with_other_names_or_a_unique_index_are_found_by_column_and_restored(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute('ALTER TABLE contacts RENAME CONSTRAINT contacts_phone_number_key TO "Phone Uniq"')
        conn.execute("CREATE UNIQUE INDEX contacts_thread_uidx ON contacts (thread_id) WHERE thread_id <> ''")
        conn.execute("ALTER TABLE contacts DROP CONSTRAINT contacts_thread_id_key")
        before, counts = catalog_shape(conn), row_counts(conn)
    runner.migrate(legacy_db)
    with connection(legacy_db) as conn:
        assert constraints(conn, "contacts")["unique_contact_per_user"][2] == "UNIQUE (user_id, phone_number)"
        thread_key = one(conn, "SELECT pg_get_indexdef('public.unique_thread_per_user'::regclass)")
        assert "(user_id, thread_id) WHERE ((thread_id)::text <> ''::text)" in thread_key, thread_key  # the app's
        assert single_column_uniques(conn, "phone_number") == [] == single_column_uniques(conn, "thread_id")
        saved = dict(conn.execute("SELECT object_name, kind FROM tenant_migrate.saved_objects "
                                  "WHERE NOT starts_with(definition, 'FOREIGN KEY')").fetchall())
        assert saved == {"Phone Uniq": "constraint", "contacts_thread_uidx": "index"}
    runner.rollback(legacy_db, 0)
    with connection(legacy_db) as conn:
        assert catalog_shape(conn) == before
        assert row_counts(conn) == counts


def test_phase_4_gives_the_planner_statistics_of_the_tenant_ids(legacy_db):
    """Phase 2's DEFAULT changes no row, so autovacuum never analyzes the tenant ids (here it is off, as on a table
    the app seldom writes): phase 4 does, those columns only. Without it the planner guesses that user_id = 1
    matches 0.5% of the rows when it matches all of them."""
    with connection(legacy_db) as conn:
        for table in ("contacts", "messages"):
            conn.execute(f"ALTER TABLE public.{table} SET (autovacuum_enabled = false)")
        conn.commit()
    runner.migrate(legacy_db, to=4)
    with connection(legacy_db) as conn:
        analyzed = set(conn.execute("SELECT tablename, attname FROM pg_stats WHERE schemaname = 'public' "
                                    "AND attname IN ('user_id', 'chatbot_id')").fetchall())
        (rows,) = conn.execute("SELECT count(*) FROM public.messages").fetchone()
        ((plan,),) = conn.execute("EXPLAIN (FORMAT JSON) SELECT * FROM public.messages WHERE user_id = 1").fetchall()
    assert {("contacts", "user_id"), ("messages", "user_id"), ("messages", "chatbot_id")} <= analyzed
    assert plan[0]["Plan"]["Plan Rows"] > 0.9 * rows
