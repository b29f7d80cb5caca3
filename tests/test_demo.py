"""The legacy demo database: schema, deterministic data, and refusal to load over existing tables."""

import pytest

from tenant_migrate import demo
from tenant_migrate.db import catalog_shape, connection, row_counts
from tenant_migrate.errors import MigrationError


def test_demo_data_has_the_documented_shape_at_scale(empty_db):
    result = demo.load(empty_db, 0.05)
    assert result["row_counts"] == {"contacts": 500, "messages": 5000, "orders": 500, "campaigns": 3,
            "campaign_subscribers": 1500}
    with connection(empty_db) as conn:  # settled as autovacuum keeps a production database: every page all-visible
        unsettled = conn.execute("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                                 "AND relkind = 'r' AND (relallvisible < relpages OR reltuples < 0)").fetchall()
    assert [] == unsettled


def test_demo_data_is_realistic(legacy_db):
    with connection(legacy_db) as conn:
        bad_phones = conn.execute("SELECT count(*) FROM contacts WHERE phone_number !~ '^\\+[1-9][0-9]{7,14}$'")
        assert bad_phones.fetchone()[0] == 0
        nulls, threads = conn.execute("SELECT count(*) FILTER (WHERE thread_id IS NULL), "
                                      "count(thread_id) FROM contacts").fetchone()
        assert nulls > 0 and threads > 0
        directions = {r[0] for r in conn.execute("SELECT DISTINCT direction FROM messages")}
        assert {"incoming", "outgoing"} == directions
        assert conn.execute("SELECT count(*) FROM messages WHERE content_text ~ '[^\\x01-\\x7f]'").fetchone()[0] > 0
        days = conn.execute("SELECT max(sent_at)::date - min(sent_at)::date FROM messages").fetchone()[0]
        assert days > 300


def test_every_foreign_key_of_the_demo_data_holds(legacy_db):
    orphans = """SELECT (SELECT count(*) FROM messages m
                         WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = m.contact_id))
                      + (SELECT count(*) FROM orders o
                         WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = o.contact_id)
                            OR NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = o.message_id))
                      + (SELECT count(*) FROM campaign_subscribers s
                         WHERE NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.id = s.campaign_id)
                            OR NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = s.contact_id))"""
    with connection(legacy_db) as conn:
        assert 0 == conn.execute(orphans).fetchone()[0]


def test_demo_data_is_deterministic(empty_db, legacy_db):
    demo.load(empty_db, 0.05)
    checksum = "SELECT md5(string_agg(m::text, ',' ORDER BY id)) FROM messages AS m"
    with connection(empty_db) as a, connection(legacy_db) as b:
        assert a.execute(checksum).fetchone() == b.execute(checksum).fetchone()


def test_next_insert_gets_a_fresh_id(legacy_db):
    with connection(legacy_db) as conn:
        new_id = conn.execute("INSERT INTO contacts (phone_number) VALUES ('+15550000000') RETURNING id")
        assert new_id.fetchone()[0] == 501


def test_loading_over_existing_tables_is_refused_and_changes_nothing(legacy_db):
    with connection(legacy_db) as conn:
        before = (catalog_shape(conn), row_counts(conn))
    with pytest.raises(MigrationError, match="is not empty"):
        demo.load(legacy_db, 0.01)
    with connection(legacy_db) as conn:
        assert before == (catalog_shape(conn), row_counts(conn))


def test_creating_an_existing_database_is_refused(pg_server, legacy_template):
    with pytest.raises(MigrationError, match="already exists"):
        demo.create_database(pg_server, legacy_template)


def test_scale_must_be_positive(empty_db):
    with pytest.raises(MigrationError, match="scale must be positive"):
        demo.load(empty_db, 0)
