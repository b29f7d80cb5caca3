"""Tenant isolation in depth, on a migrated database: no row can point at another tenant's row (and an error never
tells whether an id exists under another tenant), the application roles reach the tenant tables only,
tenant_legacy is tenant 1 whatever it sets, views that would bypass row-level security are refused by the check,
phase 8's rollback leaves what was there before it, and the facts a database sharded by user_id relies on."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from conftest import clone_legacy
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from tenant_migrate import backend_contract as bc
from tenant_migrate import demo, runner
from tenant_migrate.check.review import refusals
from tenant_migrate.db import connection
from tenant_migrate.dsn import database_name

# Every reference between tenant tables, by its column (users aside: a tenant row's user_id is its tenant).
REFERENCES = {
    ("messages", "contact_id"): "contacts", ("orders", "contact_id"): "contacts", ("orders", "message_id"): "messages",
    ("campaign_subscribers", "campaign_id"): "campaigns", ("campaign_subscribers", "contact_id"): "contacts",
    ("contacts", "chatbot_id"): "chatbots", ("messages", "chatbot_id"): "chatbots",
    ("orders", "chatbot_id"): "chatbots", ("campaigns", "chatbot_id"): "chatbots",
    ("actions", "chatbot_id"): "chatbots", ("actions", "contact_id"): "contacts",
    ("order_items", "order_id"): "orders",
    ("analytics_events", "chatbot_id"): "chatbots", ("analytics_events", "contact_id"): "contacts",
    ("webhooks", "chatbot_id"): "chatbots", ("bot_knowledge_base", "chatbot_id"): "chatbots",
    ("conversation_instructions", "chatbot_id"): "chatbots", ("conversation_instructions", "contact_id"): "contacts",
}
# One row of tenant %(u)s (chatbot %(b)s) in every table that references another tenant table.
TENANT_B_ROWS = """
INSERT INTO contacts (phone_number, user_id, chatbot_id) VALUES ('+15550001', %(u)s, %(b)s);
INSERT INTO messages (contact_id, user_id, chatbot_id, content_text)
    SELECT id, %(u)s, %(b)s, 'hi' FROM contacts WHERE user_id = %(u)s;
INSERT INTO orders (contact_id, message_id, user_id, chatbot_id)
    SELECT c.id, m.id, %(u)s, %(b)s FROM contacts AS c JOIN messages AS m ON m.contact_id = c.id
    WHERE c.user_id = %(u)s;
INSERT INTO campaigns (name, user_id, chatbot_id) VALUES ('b', %(u)s, %(b)s);
INSERT INTO campaign_subscribers (user_id, campaign_id, contact_id)
    SELECT %(u)s, k.id, c.id FROM campaigns AS k, contacts AS c WHERE k.user_id = %(u)s AND c.user_id = %(u)s;
INSERT INTO actions (user_id, chatbot_id, contact_id, request_type)
    SELECT %(u)s, %(b)s, id, 'refund' FROM contacts WHERE user_id = %(u)s;
INSERT INTO order_items (user_id, order_id, product_name, quantity, unit_price, total_price)
    SELECT %(u)s, id, 'tea', 1, 1, 1 FROM orders WHERE user_id = %(u)s;
INSERT INTO analytics_events (user_id, chatbot_id, contact_id, event_type)
    SELECT %(u)s, %(b)s, id, 'seen' FROM contacts WHERE user_id = %(u)s;
INSERT INTO webhooks (user_id, chatbot_id, url) VALUES (%(u)s, %(b)s, 'https://b.example/hook');
INSERT INTO bot_knowledge_base (user_id, chatbot_id, question, answer) VALUES (%(u)s, %(b)s, 'q', 'a');
INSERT INTO conversation_instructions (user_id, chatbot_id, contact_id, instruction_text)
    SELECT %(u)s, %(b)s, id, 'be brief' FROM contacts WHERE user_id = %(u)s;
"""
TENANT_REFERENCES = """
SELECT c.relname, a.attname, r.relname, k.conname
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_class AS r ON r.oid = k.confrelid
JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[2]
JOIN pg_attribute AS u ON u.attrelid = k.conrelid AND u.attnum = k.conkey[1]
JOIN pg_attribute AS ru ON ru.attrelid = k.confrelid AND ru.attnum = k.confkey[1]
WHERE k.contype = 'f' AND c.relnamespace = 'public'::regnamespace AND k.conparentid = 0
    AND cardinality(k.conkey) = 2 AND u.attname = 'user_id' AND ru.attname = 'user_id'
"""


@pytest.fixture(scope="module")
def migrated(pg_server: str, legacy_template: str) -> Iterator[tuple[str, int, int]]:
    """A migrated database with the app's own non-tenant table, and a second tenant with a row in every table that
    references another: (dsn, tenant, its chatbot)."""
    dsn = clone_legacy(pg_server, legacy_template)
    with connection(dsn) as conn:
        conn.execute("CREATE TABLE app_settings (key text PRIMARY KEY, value text)")
    runner.migrate(dsn)
    with connection(dsn) as conn:
        user_id, chatbot_id = bc.create_tenant(conn, "b@example.invalid")
        for statement in TENANT_B_ROWS.split(";")[:-1]:
            conn.execute(statement, {"u": user_id, "b": chatbot_id})
    yield dsn, user_id, chatbot_id
    demo.drop_database(pg_server, database_name(dsn))


def as_role(conn: psycopg.Connection, role: str, tenant: int | None) -> None:
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    conn.execute("SELECT public.app_set_tenant(%s)", (tenant,))


def violated(conn: psycopg.Connection, statement: sql.Composable, value: int) -> str:
    """The name of the constraint the statement violates, in a savepoint."""
    with pytest.raises(errors.ForeignKeyViolation) as caught, conn.transaction():
        conn.execute(statement, (value,))
    return caught.value.diag.constraint_name or ""


def test_no_row_can_reference_another_tenants_row(migrated):
    dsn, tenant_b, _ = migrated
    with connection(dsn) as conn:
        found = {(t, c): r for t, c, r, _ in conn.execute(TENANT_REFERENCES)}
        assert REFERENCES == found
        with conn.transaction(force_rollback=True):
            for (table, column), referenced in sorted(REFERENCES.items()):
                admin_row = conn.execute(sql.SQL("SELECT min(id) FROM {} WHERE user_id = 1").format(
                    sql.Identifier(referenced))).fetchone()[0]
                nowhere = conn.execute(sql.SQL("SELECT max(id) + 1000 FROM {}").format(
                    sql.Identifier(referenced))).fetchone()[0]
                as_role(conn, "tenant_app", tenant_b)
                update = sql.SQL("UPDATE {t} SET {c} = %s WHERE id = (SELECT min(id) FROM {t})").format(
                    t=sql.Identifier(table), c=sql.Identifier(column))
                # the same constraint refuses an id of another tenant and an id that exists nowhere: the error
                # tells the tenant nothing about the other tenants' rows
                assert violated(conn, update, admin_row) == violated(conn, update, nowhere), (table, column)
                conn.execute("RESET ROLE")


def test_tenant_app_reads_but_cannot_change_its_user_and_subscription(migrated):
    dsn, tenant_b, _ = migrated
    with connection(dsn) as conn, conn.transaction(force_rollback=True):
        as_role(conn, "tenant_app", tenant_b)
        assert [(tenant_b,)] == conn.execute("SELECT user_id FROM user_subscriptions").fetchall()
        for statement in ("UPDATE user_subscriptions SET daily_message_limit = 1000000",
                          "UPDATE users SET email = 'x@example.invalid'", "DELETE FROM user_subscriptions"):
            with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement)


def test_a_tenant_cannot_write_its_usage_counters_or_key_permissions_but_counts_through_count_usage(migrated):
    dsn, tenant_b, chatbot_b = migrated
    with connection(dsn) as conn, conn.transaction(force_rollback=True):
        conn.execute("INSERT INTO api_keys (user_id, key_name, api_key_hash) VALUES (%s, 'b', repeat('a', 64))",
                     (tenant_b,))  # the platform makes a key for tenant B
        as_role(conn, "tenant_app", tenant_b)
        assert 1 == conn.execute("SELECT public.count_usage('daily_messages_received')").fetchone()[0]
        assert 3 == conn.execute("SELECT public.count_usage('daily_messages_received', 2)").fetchone()[0]
        assert [(tenant_b, 3)] == conn.execute("SELECT user_id, daily_messages_received FROM usage_tracking").fetchall()
        for statement in ("UPDATE usage_tracking SET daily_messages_received = 0",
                          "DELETE FROM usage_tracking",
                          f"INSERT INTO usage_tracking (user_id, tracking_date) VALUES ({tenant_b}, current_date + 1)",
                          "UPDATE monthly_usage_summary SET overage_cost = 0",
                          f"INSERT INTO monthly_usage_summary (user_id, year, month) VALUES ({tenant_b}, 2030, 1)",
                          """UPDATE api_keys SET permissions = '{"admin": true}'""",
                          "UPDATE api_keys SET expires_at = NULL, is_active = true",
                          f"INSERT INTO api_keys (user_id, key_name, api_key_hash) VALUES ({tenant_b}, 'x', "
                          "repeat('b', 64))",
                          f"UPDATE chatbots SET whatsapp_phone_number = '+15550009' WHERE id = {chatbot_b}",
                          f"INSERT INTO chatbots (user_id, name) VALUES ({tenant_b}, 'second')"):
            with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
                conn.execute(statement)
        for bad in ("SELECT public.count_usage('daily_messages_received', -5)", "SELECT public.count_usage('id')"):
            with pytest.raises(errors.InvalidParameterValue), conn.transaction():
                conn.execute(bad)
        assert 1 == conn.execute("DELETE FROM api_keys").rowcount  # it may revoke a key of its own
        conn.execute("RESET ROLE")
        as_role(conn, "tenant_legacy", tenant_b)  # the legacy backend counts for tenant 1, whatever it sets
        conn.execute("SELECT public.count_usage('api_calls_made')")
        conn.execute("RESET ROLE")
        assert [(1, 1)] == conn.execute("SELECT user_id, api_calls_made FROM usage_tracking "
                                        "WHERE api_calls_made > 0").fetchall()


def test_every_function_of_ours_runs_with_a_fixed_search_path_and_no_public_execute(migrated):
    dsn, _, _ = migrated
    with connection(dsn) as conn:
        rows = conn.execute(
            "SELECT p.oid::regprocedure::text, p.prosecdef, p.proconfig, "
            "has_function_privilege('public', p.oid, 'EXECUTE') FROM tenant_migrate.owned_objects AS o "
            "JOIN pg_proc AS p ON p.oid = to_regprocedure(o.name) "
            # the two that the policies inline (a SET clause would stop that) are bound when created (BEGIN ATOMIC),
            # and every role that reads a tenant table evaluates them (escape tried: test_a_legacy_login_cannot_...)
            "WHERE o.kind = 'function' AND o.name NOT IN ('app_current_tenant()', 'app_tenant_token()') "
            "ORDER BY 1").fetchall()
    assert [("app_set_tenant(bigint)", False, ["search_path=pg_catalog, pg_temp"], False),
            ("count_usage(text,integer)", True, ["search_path=pg_catalog, pg_temp"], False)] == rows


def test_application_roles_reach_the_tenant_tables_only(migrated):
    dsn, _, _ = migrated
    with connection(dsn) as conn:
        tenant = {r[0] for r in conn.execute("SELECT table_name FROM tenant_migrate.tenant_tables")}
        rows = conn.execute(
            "SELECT c.relname, c.relkind, has_table_privilege('tenant_app', c.oid, 'SELECT'), "
            "has_table_privilege('tenant_app', c.oid, 'UPDATE'), "
            "c.relkind = 'S' AND has_sequence_privilege('tenant_app', c.oid, 'USAGE') "
            "FROM pg_class AS c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'S') "
            "AND NOT c.relispartition").fetchall()
    reads = {name for name, kind, select, _, _ in rows if select and kind != "S"}
    assert tenant == reads and "app_settings" not in reads
    assert {"users", "user_subscriptions", "chatbots", "usage_tracking", "monthly_usage_summary", "api_keys"} == \
        {n for n, kind, select, update, _ in rows if kind != "S" and select and not update}
    sequences = [(name, select, usage) for name, kind, select, _, usage in rows if kind == "S"]
    assert sequences and all(usage and not select for _, select, usage in sequences), sequences


def test_tenant_legacy_is_tenant_1_whatever_it_sets(migrated):
    dsn, tenant_b, chatbot_b = migrated
    with connection(dsn) as conn, conn.transaction(force_rollback=True):
        admin_contacts = conn.execute("SELECT count(*) FROM contacts WHERE user_id = 1").fetchone()[0]
        as_role(conn, "tenant_legacy", tenant_b)
        assert [(admin_contacts, 1)] == conn.execute("SELECT count(*), max(user_id) FROM contacts").fetchall()
        with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
            conn.execute("INSERT INTO contacts (phone_number, user_id, chatbot_id) VALUES ('+1555', %s, %s)",
                         (tenant_b, chatbot_b))


def test_compliance_with_a_database_sharded_by_user_id(migrated):
    """What a distributed PostgreSQL (Citus) needs of a table distributed by user_id: every foreign key between
    distributed tables and every unique key includes user_id. Left: the primary keys (id alone), and the unique
    keys that are global on purpose: phase 9 replaces exactly these (docs/scale-out.md)."""
    dsn, _, _ = migrated
    with connection(dsn) as conn:
        distributed = {r[0] for r in conn.execute("SELECT table_name FROM tenant_migrate.tenant_tables")} - {"users"}
        keys = conn.execute(
            "SELECT c.relname, k.contype, pg_get_constraintdef(k.oid), "
            "EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) "
            "        AND a.attname = 'user_id'), r.relname "
            "FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid LEFT JOIN pg_class AS r ON "
            "r.oid = k.confrelid WHERE c.relnamespace = 'public'::regnamespace AND k.contype IN ('p', 'u', 'f') "
            "AND k.conparentid = 0").fetchall()
    between = [(t, d) for t, kind, d, has, ref in keys if kind == "f" and t in distributed and ref in distributed]
    assert between and all(d.startswith("FOREIGN KEY (user_id, ") for _, d in between), between
    left = {(t, d) for t, kind, d, has, _ in keys if kind in "pu" and t in distributed and not has}
    assert {(t, "PRIMARY KEY (id)") for t in distributed} | {
        ("campaign_subscribers", "UNIQUE (campaign_id, contact_id)"), ("orders", "UNIQUE (order_number)"),
        ("chatbots", "UNIQUE (whatsapp_phone_number)"), ("api_keys", "UNIQUE (api_key_hash)")} == left


def test_the_check_refuses_a_view_that_would_bypass_row_level_security(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute("CREATE VIEW contact_names AS SELECT id, name FROM contacts")
        conn.execute("CREATE MATERIALIZED VIEW message_totals AS SELECT contact_id, count(*) FROM messages "
                     "GROUP BY contact_id")
    _, findings = runner.check(legacy_db)
    assert [f.line() for f in refusals(findings)] == [
        "REFUSE  phase 8 view contact_names: reads contacts as its owner, bypassing row-level security: ALTER VIEW "
        "contact_names SET (security_invoker = true), or drop it"]
    assert any(f.verdict == "note" and f.object == "materialized view message_totals" for f in findings)
    with connection(legacy_db) as conn:
        conn.execute("ALTER VIEW contact_names SET (security_invoker = true)")
    assert [] == refusals(runner.check(legacy_db)[1])


def test_phase_8_rollback_leaves_a_policy_and_grant_that_were_there_before(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE tenant_app NOLOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
        conn.execute("GRANT SELECT ON contacts TO tenant_app")
        conn.execute("CREATE POLICY app_reads_active ON contacts FOR SELECT USING (contact_status <> 'blocked')")
        before = conn.execute("SELECT polname, pg_get_expr(polqual, polrelid) FROM pg_policy").fetchall()
    runner.migrate(legacy_db)
    runner.rollback(legacy_db, 7)
    with connection(legacy_db) as conn:
        assert before == conn.execute("SELECT polname, pg_get_expr(polqual, polrelid) FROM pg_policy").fetchall()
        privileges = conn.execute("SELECT has_table_privilege('tenant_app', 'contacts', 'SELECT'), "
                                  "has_table_privilege('tenant_app', 'contacts', 'INSERT'), "
                                  "has_table_privilege('tenant_app', 'messages', 'SELECT')").fetchone()
        assert (True, False, False) == privileges


def observe(conn: psycopg.Connection, role: str, tenant: int | None, others_than: int) -> tuple[int, int, str]:
    """One transaction of a client: (rows of contacts it sees, of them not of tenant `others_than`, the
    app.tenant_id it found set when it began)."""
    with conn.transaction():
        found = conn.execute("SELECT coalesce(current_setting('app.tenant_id', true), '')").fetchone()[0]
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        if tenant is not None:
            conn.execute("SELECT public.app_set_tenant(%s)", (tenant,))
        seen, foreign = conn.execute("SELECT count(*), count(*) FILTER (WHERE user_id <> %s) FROM contacts",
                                     (others_than,)).fetchone()
    return seen, foreign, found


CARELESS = (  # a client that names its tenant at session level, through a pooler: the value stays on a server conn
    "SET app.tenant_id = '{b}'",
    "SELECT set_config('app.tenant_id', '{b}', false)",
    "BEGIN; SELECT public.app_set_tenant({b}); SELECT set_config('app.tenant_id', current_setting('app.tenant_id'), "
    "false); COMMIT",  # even a value app_set_tenant made, copied to the session
)


def test_a_tenant_named_at_session_level_reaches_no_other_client_through_a_transaction_pooler(migrated, pgbouncer):
    """Through PgBouncer in transaction mode (2 server connections for 6 clients), 360 interleaved transactions of:
    a client of tenant 1 and one of tenant B, each naming its tenant with app_set_tenant; the backend contract for
    tenant B; a client that names no tenant; the legacy role; and a careless client that sets app.tenant_id at
    session level every round. Nobody sees a row of another tenant, though the careless values did reach the other
    clients' server connections (the hazard of issue 23: ~270 of 300 queries saw tenant B's rows)."""
    dsn, tenant_b, chatbot_b = migrated
    pooled = pgbouncer.dsn(dsn, "transaction")
    names = ("tenant 1", "tenant b", "contract", "no tenant", "legacy", "careless")
    clients = {name: psycopg.connect(pooled, autocommit=True, prepare_threshold=None) for name in names}
    try:
        with clients["contract"].transaction():  # the contract's own transactions as tenant_app, through the pool
            clients["contract"].execute("SET LOCAL ROLE tenant_app")
            contact = bc.get_or_create_contact(clients["contract"], "+15550077", user_id=tenant_b, chatbot_id=chatbot_b)
        with connection(dsn) as conn:
            counts = dict(conn.execute("SELECT user_id, count(*) FROM contacts GROUP BY user_id").fetchall())
        seen: dict[str, list[tuple[int, int, str]]] = {name: [] for name in names}
        for round_number in range(60):
            clients["careless"].execute(CARELESS[round_number % len(CARELESS)].format(b=tenant_b))
            seen["careless"].append(observe(clients["careless"], "tenant_app", None, tenant_b))
            seen["no tenant"].append(observe(clients["no tenant"], "tenant_app", None, 0))
            seen["tenant 1"].append(observe(clients["tenant 1"], "tenant_app", 1, 1))
            seen["tenant b"].append(observe(clients["tenant b"], "tenant_app", tenant_b, tenant_b))
            seen["legacy"].append(observe(clients["legacy"], "tenant_legacy", None, 1))
            with clients["contract"].transaction():
                clients["contract"].execute("SET LOCAL ROLE tenant_app")
                again = bc.get_or_create_contact(clients["contract"], "+15550077", user_id=tenant_b,
                                                 chatbot_id=chatbot_b)
            seen["contract"].append(observe(clients["contract"], "tenant_app", tenant_b, tenant_b))
            assert (contact.id, False) == (again.id, again.created)
    finally:
        for client in clients.values():
            client.close()
    expected = {"tenant 1": {(counts[1], 0)}, "tenant b": {(counts[tenant_b], 0)}, "contract": {(counts[tenant_b], 0)},
                "no tenant": {(0, 0)}, "legacy": {(counts[1], 0)}, "careless": {(0, 0)}}
    assert expected == {name: {(n, foreign) for n, foreign, _ in rows} for name, rows in seen.items()}
    assert 360 == sum(map(len, seen.values()))
    poisoned = [found for _, _, found in seen["no tenant"] if found.split("/")[0] == str(tenant_b)]
    assert len(poisoned) >= 20, seen["no tenant"][:5]  # the hazard was met, and held off


def test_a_legacy_login_cannot_escape_tenant_1_with_functions_on_its_search_path(migrated):
    """A login of tenant_legacy that owns a schema puts it first on its search_path with its own pg_has_role,
    current_setting, split_part and = operator, which do shadow PostgreSQL's in its session: app_current_tenant()
    calls none of them (schema-qualified names, bound when it was created), so the login still sees tenant 1 only."""
    dsn, tenant_b, _ = migrated
    with connection(dsn) as conn:
        conn.execute("DROP ROLE IF EXISTS tm_legacy_login")
        conn.execute("CREATE ROLE tm_legacy_login LOGIN IN ROLE tenant_legacy")
        conn.execute("CREATE SCHEMA escape AUTHORIZATION tm_legacy_login")
        tenant_1 = conn.execute("SELECT count(*) FROM contacts WHERE user_id = 1").fetchone()[0]
    try:
        with psycopg.connect(make_conninfo(dsn, user="tm_legacy_login"), autocommit=True) as legacy:
            legacy.execute("SET search_path = escape, pg_catalog, public")
            legacy.execute(sql.SQL(ESCAPE).format(current=sql.Literal(f"SELECT '{tenant_b}'")))
            assert (False, f"{tenant_b}/1") == legacy.execute(  # the shadows are what its own SQL calls now
                "SELECT pg_has_role(current_user, 'tenant_legacy', 'USAGE'), current_setting('app.tenant_id', true) "
                "|| '/' || split_part('a', 'b', 1)").fetchone()
            assert (tenant_1, 1, 1) == legacy.execute(
                "SELECT count(*), max(user_id), public.app_current_tenant() FROM contacts").fetchone()
    finally:
        with connection(dsn) as conn:
            conn.execute("DROP SCHEMA escape CASCADE")
            conn.execute("DROP ROLE tm_legacy_login")


ESCAPE = """
CREATE FUNCTION escape.pg_has_role(name, text, text) RETURNS boolean LANGUAGE sql AS 'SELECT false';
CREATE FUNCTION escape.current_setting(text, boolean) RETURNS text LANGUAGE sql AS {current};
CREATE FUNCTION escape.split_part(text, text, integer) RETURNS text LANGUAGE sql AS 'SELECT ''1''';
CREATE FUNCTION escape.always(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR escape.= (LEFTARG = text, RIGHTARG = text, FUNCTION = escape.always);
"""
