"""tenant_migrate/compat/statements.py: the app's statements from pg_stat_statements, the migration's own left out."""

from conftest import APP_LOOKUP, APP_UPSERT, APP_UPSERT_CALLS, app_role
from psycopg import sql

from tenant_migrate.compat.statements import read
from tenant_migrate.db import connection
from tenant_migrate.dsn import database_name


def placeholders(query: str) -> str:
    """A statement as pg_stat_statements shows it: psycopg sends %s as $1, $2, ..."""
    parts = query.split("%s")
    return "".join(p + (f"${i + 1}" if i < len(parts) - 1 else "") for i, p in enumerate(parts))


def test_without_the_extension_the_check_says_so_in_one_line_and_reads_nothing(legacy_db):
    found = read(legacy_db)
    assert [] == found.statements
    assert found.unavailable.startswith(f"app statements not checked: pg_stat_statements is not installed in "
                                        f"database {database_name(legacy_db)}")
    assert "shared_preload_libraries" in found.unavailable and "\n" not in found.unavailable


def test_the_app_statements_come_with_their_role_and_calls_and_the_migrations_own_are_left_out(app_db):
    found = read(app_db)
    app = f"{database_name(app_db)}_app"
    by_text = {s.query: s for s in found.statements}
    upsert = by_text[placeholders(APP_UPSERT)]
    assert (app, APP_UPSERT_CALLS) == (upsert.role, upsert.calls)
    assert upsert.calls_a_day >= APP_UPSERT_CALLS  # the statistics are younger than a day here
    assert placeholders(APP_LOOKUP) in by_text
    assert "SELECT id, phone_number, thread_id FROM public.contacts WHERE phone_number = $1" in by_text  # contract
    # the fixture's own statements (CREATE EXTENSION, ...) ran as the role reading them: left out
    assert {app} == {s.role for s in found.statements}
    assert [] == found.notes


def test_roles_that_cannot_log_in_are_left_out(app_db):
    with connection(app_db) as conn:
        conn.execute("GRANT SELECT ON orders TO tenant_legacy")
        conn.execute("SET ROLE tenant_legacy")  # how the acceptance checklist runs the contract
        conn.execute("SELECT count(*) FROM orders WHERE status = 'from a group role'")
    assert not [s for s in read(app_db).statements if "orders WHERE status" in s.query]


def test_a_reader_without_pg_read_all_stats_is_told_how_to_see_the_other_roles_statements(app_db):
    reader = app_role(app_db, "app_reader", tenant=False)
    found = read(reader)
    assert [] == found.statements
    role = f"{database_name(app_db)}_app_reader"
    assert found.unavailable.startswith("app statements not checked: ")
    assert found.unavailable.endswith(f"hidden from role {role}: GRANT pg_read_all_stats TO {role}, then check again")
    with connection(app_db) as conn:
        conn.execute(sql.SQL("GRANT pg_read_all_stats TO {}").format(sql.Identifier(role)))
    assert read(reader).statements and not read(reader).notes


def test_with_no_statement_of_another_login_role_the_check_says_how_to_get_some(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
        conn.execute("SELECT count(*) FROM contacts")  # the migration's own role: left out
    found = read(legacy_db)
    assert [] == found.statements
    assert found.unavailable.endswith("(the migration's own, left out): connect the app as a role of its own, and "
                                      "check once it has run")
