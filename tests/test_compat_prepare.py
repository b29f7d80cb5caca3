"""tenant_migrate/compat/prepare.py: each app statement prepared and planned as its role, in a rolled-back
transaction: its error, its columns, its lookups without the tenant; nothing written, nothing counted."""

import psycopg
import pytest
from conftest import snapshot
from psycopg import sql

from tenant_migrate import ledger, runner
from tenant_migrate.compat.prepare import check_all, kind
from tenant_migrate.compat.statements import Statement, read
from tenant_migrate.db import connection
from tenant_migrate.dsn import database_name

# the hand-written app statements of conftest.run_app_statements, by a part of their normalized text
APP_UPSERT, APP_LOOKUP = "ON CONFLICT (phone_number)", "SELECT id, thread_id FROM contacts WHERE phone_number"
APP_POSITIONAL, APP_STAR = "INSERT INTO campaigns VALUES", "SELECT * FROM orders"


def by_text(dsn: str) -> dict[str, Statement]:
    """The recorded statements, by the part of their text named above."""
    statements = read(dsn).statements
    return {part: next(s for s in statements if part in s.query)
            for part in (APP_UPSERT, APP_LOOKUP, APP_POSITIONAL, APP_STAR)}


@pytest.mark.parametrize(("query", "expected"), [
    ("SELECT 1", "preparable"), ("  -- note\n/* c */ (SELECT 1)", "preparable"),
    ("with x as (select 1) table x", "preparable"),
    ("BEGIN", "session"), ("set search_path = app", "session"), ("COMMIT;", "session"),
    ("COPY contacts FROM STDIN", "utility"), ("VACUUM orders", "utility"), ("", "utility"),
])
def test_the_first_word_says_whether_prepare_can_check_a_statement(query, expected):
    assert expected == kind(query)


def test_before_the_migration_every_app_statement_prepares(app_db):
    statements = read(app_db).statements
    checks = check_all(app_db, statements)
    assert {"ok", "session"} == {c.status for c in checks.values()}
    star = checks[by_text(app_db)[APP_STAR].key]
    assert ("id", "contact_id", "message_id", "order_details", "status", "created_at", "updated_at") == star.columns
    assert not any(c.lookups for c in checks.values())  # phone_number is unique on its own: one row, always


def test_after_phase_5_the_upsert_fails_the_lookup_is_unconfined_and_select_star_has_more_columns(app_db):
    """... and a lookup by thread_id alone in the app's own store of conversations (no user_id) now may mix two
    tenants' conversations."""
    role = f"{database_name(app_db)}_app"  # the app's login role (conftest.app_role)
    with connection(app_db) as conn:
        conn.execute("CREATE TABLE conversations (thread_id text PRIMARY KEY, state jsonb)")
        conn.execute(sql.SQL("GRANT SELECT ON conversations TO {}").format(sql.Identifier(role)))
    store = Statement(1, role, "SELECT state FROM conversations WHERE thread_id = $1", 1, 1.0)
    assert () == check_all(app_db, [store])[store.key].lookups
    runner.migrate(app_db, to=5)
    text = by_text(app_db)
    checks = check_all(app_db, [*text.values(), store])
    assert ("conversations.thread_id",) == checks[store.key].lookups
    with connection(app_db) as conn:  # the check's warning about that table is a note of phase 5's run (its gate)
        notes = ledger.latest_run(conn, 5)["notes"]
    assert [n for n in notes if n.startswith("WARN    phase 5 soft reference conversations.thread_id -> contacts."
                                             "thread_id: by its name.")], notes
    upsert = checks[text[APP_UPSERT].key]
    assert ("fails", "there is no unique or exclusion constraint matching the ON CONFLICT specification") == \
        (upsert.status, upsert.reason)
    assert ("contacts.phone_number",) == checks[text[APP_LOOKUP].key].lookups
    assert "ok" == checks[text[APP_POSITIONAL].key].status  # new columns come last and have defaults
    assert {"user_id", "chatbot_id"} < set(checks[text[APP_STAR].key].columns)


def test_after_phase_8_row_level_security_confines_the_lookup_of_a_role_with_a_tenant(app_db):
    runner.migrate(app_db, to=8)
    text = by_text(app_db)
    lookup = check_all(app_db, [text[APP_LOOKUP]])[text[APP_LOOKUP].key]
    assert ("ok", (), False) == (lookup.status, lookup.lookups, lookup.no_tenant)


def test_the_check_writes_nothing_and_counts_no_call(app_db):
    statements = read(app_db).statements
    before = snapshot(app_db), {s.key: s.calls for s in statements}
    check_all(app_db, statements)
    assert before == (snapshot(app_db), {s.key: s.calls for s in read(app_db).statements})


def test_a_table_locked_by_someone_else_leaves_its_statements_unchecked_rather_than_waiting(app_db):
    text = by_text(app_db)
    with psycopg.connect(app_db) as holder:
        holder.execute("LOCK TABLE orders IN ACCESS EXCLUSIVE MODE")
        check = check_all(app_db, [text[APP_STAR]])[text[APP_STAR].key]
    assert ("unchecked", "not checked: canceling statement due to lock timeout") == (check.status, check.reason)


def test_a_role_this_migration_cannot_act_as_is_unchecked(app_db):
    gone = Statement(1, "no_such_role_anywhere", "SELECT 1", 1, 1.0)
    check = check_all(app_db, [gone])[gone.key]
    assert ("unchecked", 'cannot act as role no_such_role_anywhere: role "no_such_role_anywhere" does not exist') \
        == (check.status, check.reason)


def test_a_statement_whose_parameter_types_cannot_be_inferred_is_unchecked_with_the_reason(app_db):
    odd = Statement(2, read(app_db).statements[0].role, "SELECT $1 IS NULL", 1, 1.0)
    check = check_all(app_db, [odd])[odd.key]
    assert ("unchecked", "cannot be prepared as recorded: could not determine data type of parameter $1") == \
        (check.status, check.reason)


def test_a_utility_command_is_unchecked(app_db):
    copy = Statement(3, read(app_db).statements[0].role, "COPY contacts TO STDOUT", 1, 1.0)
    assert "a utility command: PREPARE cannot check it" == check_all(app_db, [copy])[copy.key].reason



def test_a_statement_is_prepared_with_the_search_path_its_role_logs_in_with(app_db):
    role = read(app_db).statements[0].role
    with connection(app_db) as conn:
        conn.execute("CREATE SCHEMA app_own")
        conn.execute("CREATE TABLE app_own.settings (key text PRIMARY KEY, value text)")
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA app_own TO {0}; GRANT SELECT ON app_own.settings TO {0}").format(
            sql.Identifier(role)))
        conn.execute(sql.SQL("ALTER ROLE {} IN DATABASE {} SET search_path = app_own, public").format(
            sql.Identifier(role), sql.Identifier(database_name(app_db))))
    unqualified = Statement(4, role, "SELECT value FROM settings WHERE key = $1", 1, 1.0)
    assert "ok" == check_all(app_db, [unqualified])[unqualified.key].status
