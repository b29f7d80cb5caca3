"""tenant_migrate/fingerprint.py: a content fingerprint of the app's tables that names what changed."""

from __future__ import annotations

from typer.testing import CliRunner

from tenant_migrate import fingerprint, runner
from tenant_migrate.cli.main import app
from tenant_migrate.db import connection


def test_the_same_data_gives_the_same_fingerprint(legacy_db):
    first = fingerprint.take(legacy_db)
    assert {"contacts", "messages", "orders", "campaigns", "campaign_subscribers"} == set(first.chunks)
    assert [] == fingerprint.differences(first, fingerprint.take(legacy_db))


def test_a_changed_value_or_a_lost_row_is_named_by_table_and_chunk(legacy_db):
    before = fingerprint.take(legacy_db)
    with connection(legacy_db) as conn:
        conn.execute("UPDATE messages SET status = status || '!' WHERE id = 4242")
        conn.execute("DELETE FROM campaign_subscribers WHERE id = (SELECT max(id) FROM campaign_subscribers)")
    found = fingerprint.differences(before, fingerprint.take(legacy_db))
    assert any(line.startswith("messages chunk 0: same row count, other content") for line in found), found
    assert any(line.startswith("campaign_subscribers chunk") and "-> " in line for line in found), found


def test_tables_without_an_integer_key_and_columns_without_a_hash_function_are_covered(legacy_db):
    with connection(legacy_db) as conn:
        conn.execute("CREATE TABLE settings (key text PRIMARY KEY, value json)")
        conn.execute("""INSERT INTO settings VALUES ('a', '{"x": 1}'), ('b', '[1, 2]')""")
    before = fingerprint.take(legacy_db)
    with connection(legacy_db) as conn:
        conn.execute("""UPDATE settings SET value = '{"x": 2}' WHERE key = 'a'""")
    found = fingerprint.differences(before, fingerprint.take(legacy_db))
    assert 1 == len(found) and found[0].startswith("settings chunk"), found


def test_what_the_migration_adds_is_left_out_so_the_app_data_compares_across_phases(legacy_db):
    before = fingerprint.take(legacy_db)
    runner.migrate(legacy_db, to=4)
    after = fingerprint.take(legacy_db)
    assert before.columns == after.columns  # no user_id, no users table
    assert [] == fingerprint.differences(before, after)


def test_the_command_keeps_and_compares_a_fingerprint(legacy_db):
    cli = CliRunner()
    saved = cli.invoke(app, ["fingerprint", "--dsn", legacy_db, "--save", "start"])
    assert 0 == saved.exit_code, saved.output
    assert "rows/s" in saved.output.splitlines()[0]
    assert 0 == cli.invoke(app, ["fingerprint", "--dsn", legacy_db, "--compare", "start"]).exit_code
    with connection(legacy_db) as conn:
        conn.execute("UPDATE contacts SET name = name || '!' WHERE id = 7")
    changed = cli.invoke(app, ["fingerprint", "--dsn", legacy_db, "--compare", "start"])
    assert 1 == changed.exit_code
    assert "DIFFERS contacts chunk 0" in changed.output
    unknown = cli.invoke(app, ["fingerprint", "--dsn", legacy_db, "--compare", "nope"])
    assert 1 == unknown.exit_code and "no fingerprint labelled 'nope'" in unknown.stderr
