"""The ledger decides what a rollback drops and gives back, so only the migration may write it: a ledger schema that
another role owns or may write is refused before any change; the app's owner role cannot write it, whatever default
privileges say; and rows written into it outside the migration (forged ownership, a changed saved definition) make
a rollback stop, or do nothing, but never drop or alter an object of the app's."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
from conftest import _casts_and_parens_removed, clone_legacy
from psycopg import errors, sql
from psycopg.conninfo import make_conninfo

from tenant_migrate import demo, ledger, lock, ownership, runner
from tenant_migrate.backup import dump, restore
from tenant_migrate.db import connection, row_counts, scalar
from tenant_migrate.dsn import database_name, with_database
from tenant_migrate.errors import LedgerUntrusted, PhaseFailed


def make_role(dsn: str, suffix: str) -> str:
    """A LOGIN role (not superuser) named after the database of `dsn`; its name."""
    role = f"{database_name(dsn)}_{suffix}"
    with connection(dsn) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    return role


def drop_role(dsn: str, role: str) -> None:
    with connection(dsn) as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def state(dsn: str) -> tuple:
    """The public catalog, the legacy row counts, and every object and privilege of the schema tenant_migrate."""
    with connection(dsn) as conn:
        ledger_objects = conn.execute(
            "SELECT c.relname, c.relowner::regrole::text, c.relacl::text FROM pg_class AS c "
            "WHERE c.relnamespace = to_regnamespace('tenant_migrate') ORDER BY 1").fetchall()
        schema = conn.execute("SELECT nspowner::regrole::text, nspacl::text FROM pg_namespace "
                              "WHERE nspname = 'tenant_migrate'").fetchall()
        return ownership.catalog(conn), row_counts(conn), ledger_objects, schema


@pytest.fixture
def other(legacy_db: str) -> Iterator[tuple[str, str]]:
    """legacy_db, and another login role there (not the migration's)."""
    role = make_role(legacy_db, "other")
    yield legacy_db, role
    drop_role(legacy_db, role)


UNTRUSTED = {
    "owned by another role": ("CREATE SCHEMA tenant_migrate AUTHORIZATION {role}",
                              "the schema tenant_migrate is owned by .*_other, not by"),
    "CREATE for another role": ("CREATE SCHEMA tenant_migrate; GRANT CREATE ON SCHEMA tenant_migrate TO {role}",
                                "role .*_other may CREATE in the schema tenant_migrate"),
    "a table another role may write": ("GRANT USAGE ON SCHEMA tenant_migrate TO {role}; "
                                       "GRANT INSERT ON tenant_migrate.owned_objects TO {role}",
                                       "role .*_other may INSERT tenant_migrate.owned_objects"),
    "a table another role owns": ("ALTER TABLE tenant_migrate.decisions OWNER TO {role}",
                                  "table tenant_migrate.decisions is owned by .*_other"),
}


@pytest.mark.parametrize("case", UNTRUSTED, ids=list(UNTRUSTED))
def test_a_ledger_schema_another_role_owns_or_may_write_is_refused_before_any_change(other, case):
    dsn, role = other
    setup, refusal = UNTRUSTED[case]
    with connection(dsn) as conn:
        if not setup.startswith("CREATE SCHEMA"):
            ledger.ensure(conn)  # the migration's own ledger, then loosened
        conn.execute(setup.format(role=sql.Identifier(role).as_string(conn)))
    before = state(dsn)
    for command in (lambda: runner.migrate(dsn), lambda: runner.rollback(dsn, 0), lambda: runner.status(dsn)):
        with pytest.raises(LedgerUntrusted) as refused:
            command()
        assert "\n" not in str(refused.value) and re.match(refusal, refused.value.problems[0])
    assert before == state(dsn)
    with connection(dsn) as conn:
        assert lock.lock_is_free(conn)


def test_the_apps_owner_cannot_write_the_ledger_even_with_default_privileges_for_it(legacy_db):
    """A careless default (ALTER DEFAULT PRIVILEGES ... TO the app's owner) would hand it every ledger object the
    migration creates: the ledger takes them back, and the app's owner can neither write a ledger table nor create
    anything in the schema."""
    owner = make_role(legacy_db, "owner")
    try:
        with connection(legacy_db) as conn:
            for table in ("contacts", "messages", "orders", "campaigns", "campaign_subscribers"):
                conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(table), sql.Identifier(owner)))
            for kind in ("TABLES", "SEQUENCES", "FUNCTIONS", "SCHEMAS"):
                conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES GRANT ALL ON {} TO {}").format(
                    sql.SQL(kind), sql.Identifier(owner)))
        runner.migrate(legacy_db, to=1)
        with connection(legacy_db) as conn:
            tables = dict(conn.execute(
                "SELECT c.relname, a.attname FROM pg_class AS c JOIN pg_attribute AS a ON a.attrelid = c.oid "
                "AND a.attnum = 1 WHERE c.relnamespace = 'tenant_migrate'::regnamespace AND c.relkind = 'r'"))
            writable = conn.execute(
                "SELECT c.relname FROM pg_class AS c WHERE c.relnamespace = 'tenant_migrate'::regnamespace "
                "AND has_table_privilege(%s, c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER')", (owner,)).fetchall()
            creates = scalar(conn, "SELECT has_schema_privilege(%s, 'tenant_migrate', 'CREATE')", (owner,))
        assert len(tables) >= 10 and ([], False) == (writable, creates)
        statements = [sql.SQL(s).format(t=sql.Identifier("tenant_migrate", t), c=sql.Identifier(c))
                      for t, c in tables.items() for s in ("INSERT INTO {t} ({c}) VALUES (DEFAULT)",
                                                           "UPDATE {t} SET {c} = {c}", "DELETE FROM {t}",
                                                           "TRUNCATE {t}")]
        statements += [sql.SQL("CREATE TABLE tenant_migrate.planted (id int)"),
                       sql.SQL("CREATE FUNCTION tenant_migrate.planted() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
                       sql.SQL("SELECT tenant_migrate.save_index(5, 0)")]
        denied = 0
        with psycopg.connect(make_conninfo(legacy_db, user=owner), autocommit=True) as app:
            for statement in statements:
                with pytest.raises(errors.InsufficientPrivilege):
                    app.execute(statement)
                denied += 1
        assert len(statements) == denied
        with connection(legacy_db) as conn:
            assert 1 == len(ledger.history(conn))  # still trusted, unchanged
    finally:
        with connection(legacy_db) as conn:
            for kind in ("TABLES", "SEQUENCES", "FUNCTIONS", "SCHEMAS"):
                conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES REVOKE ALL ON {} FROM {}").format(
                    sql.SQL(kind), sql.Identifier(owner)))
            for table in ("contacts", "messages", "orders", "campaigns", "campaign_subscribers"):
                conn.execute(sql.SQL("ALTER TABLE {} OWNER TO CURRENT_USER").format(sql.Identifier(table)))
        drop_role(legacy_db, owner)


@pytest.fixture(scope="module")
def migrated(pg_server: str, legacy_template: str) -> Iterator[str]:
    """A template: the legacy database migrated to the last phase, then the app deployed two objects of its own (a
    table, owned by another role, and a column of contacts) that are not in the catalog before phase 1."""
    dsn = clone_legacy(pg_server, legacy_template)
    runner.migrate(dsn)
    deployer = make_role(dsn, "deployer")
    with connection(dsn) as conn:
        conn.execute(sql.SQL("CREATE TABLE app_late (id int); ALTER TABLE app_late OWNER TO {}; "
                             "ALTER TABLE contacts ADD COLUMN app_late_col int").format(sql.Identifier(deployer)))
        conn.execute("INSERT INTO app_late VALUES (1), (2)")
    yield database_name(dsn)
    with connection(dsn) as conn:
        conn.execute(sql.SQL("DROP TABLE app_late"))
    drop_role(dsn, deployer)
    demo.drop_database(pg_server, database_name(dsn))


@pytest.fixture
def copy(pg_server: str, migrated: str) -> Iterator[str]:
    dsn = clone_legacy(pg_server, migrated)
    yield dsn
    demo.drop_database(pg_server, database_name(dsn))


def forge(conn: psycopg.Connection, phase: int, kind: str, table: str, name: str, objid: object,
          objsub: int = 0) -> None:
    """A row of tenant_migrate.owned_objects written by hand (no run)."""
    conn.execute("INSERT INTO tenant_migrate.owned_objects (phase, kind, table_name, name, ownership, objid, objsub) "
                 "VALUES (%s, %s, %s, %s, 'created', %s, %s)", (phase, kind, table, name, objid, objsub))


def test_forged_ownership_rows_never_make_a_rollback_drop_or_alter_the_apps_objects(copy):
    dsn = copy
    with connection(dsn) as conn:  # as a superuser would, to simulate a compromised ledger
        contacts = scalar(conn, "SELECT 'public.contacts'::regclass::oid")
        name_column = scalar(conn, "SELECT attnum FROM pg_attribute WHERE attrelid = 'public.contacts'::regclass "
                                   "AND attname = 'name'")
        forge(conn, 8, "table", "", "contacts", contacts)  # in the catalog before phase 1
        forge(conn, 2, "column", "contacts", "name", contacts, name_column)
        forge(conn, 6, "table", "", "app_late", scalar(conn, "SELECT 'public.app_late'::regclass::oid"))  # not ours
        forge(conn, 7, "index", "contacts", "contacts_pkey", None)  # no identity
    before = state(dsn)
    with pytest.raises(LedgerUntrusted) as refused:
        runner.rollback(dsn, 0)
    assert "\n" not in str(refused.value) and 4 == len(refused.value.problems)
    assert re.match(r"row \d+ says phase 8 created table contacts, which was in the catalog before phase 1 ",
                    refused.value.problems[0])
    assert before == state(dsn)
    with connection(dsn) as conn:  # rows whose identity is nothing in the catalog, names built for injection
        conn.execute("DELETE FROM tenant_migrate.owned_objects WHERE run_id IS NULL")
        forge(conn, 8, "function", "", "app_current_tenant(); DROP TABLE contacts; --", 1)
        forge(conn, 8, "grant", "contacts", "PUBLIC:SELECT ON contacts FROM x; DROP TABLE contacts; --", contacts)
        forge(conn, 8, "table", "", "app_late", 1)
        forge(conn, 8, "column", "contacts", "app_late_col", contacts, 999)
        counts = row_counts(conn)
    runner.rollback(dsn, 7)
    with connection(dsn) as conn:
        after = ownership.catalog(conn)
        assert counts == row_counts(conn)
        assert 2 == scalar(conn, "SELECT count(*) FROM app_late")
        assert "rolled back" == next(r["state"] for r in runner.status(dsn) if r["phase"] == 8)
    assert {("table", "", "app_late"), ("column", "contacts", "app_late_col"), ("column", "contacts", "name")} \
        <= after.keys()


def test_a_changed_saved_definition_is_refused_and_a_forged_one_cannot_run_a_second_statement(copy):
    dsn = copy
    where = "phase = 5 AND starts_with(definition, 'FOREIGN KEY') AND object_name = 'messages_contact_id_fkey'"
    with connection(dsn) as conn:
        conn.execute(f"UPDATE tenant_migrate.saved_objects SET definition = definition || ' ON DELETE CASCADE' "
                     f"WHERE {where}")
    before = state(dsn)
    with pytest.raises(LedgerUntrusted) as refused:
        runner.rollback(dsn, 0)
    assert "saved definition of messages.messages_contact_id_fkey (phase 5)" in refused.value.problems[0]
    assert before == state(dsn)
    with connection(dsn) as conn:  # whoever knows how the digest is made can forge one: one statement still runs
        conn.execute(f"UPDATE tenant_migrate.saved_objects SET definition = regexp_replace(definition, ' ON DELETE "
                     f"CASCADE$', '') || '; DROP TABLE contacts CASCADE; --' WHERE {where}")
        conn.execute(f"UPDATE tenant_migrate.saved_objects SET digest = tenant_migrate.saved_digest(phase, "
                     f"table_oid, table_name, object_name, kind, contype, definition, index_definition, "
                     f"condeferrable, condeferred) WHERE {where}")
    with pytest.raises(PhaseFailed) as failed:
        runner.rollback(dsn, 0)
    assert isinstance(failed.value.cause, errors.SyntaxError)
    with connection(dsn) as conn:
        assert ("table", "", "contacts") in ownership.catalog(conn)


def test_a_database_restored_from_a_backup_rolls_back_whole(copy, pg_server, legacy_template, tmp_path):
    """A restore gives every object a new oid: the ledger's identities follow them (ownership.rebind), so a rollback
    of the restored database still finds, and undoes, exactly what the migration created."""
    path = dump.backup(copy, phase=None, backup_dir=tmp_path / "backups")["path"]
    name = f"{database_name(copy)}_restored"
    target = with_database(pg_server, name)
    try:
        restore.restore(path, copy, yes=True, new_database=name)
        runner.rollback(target, 0)
        shapes = []
        for dsn in (target, with_database(pg_server, legacy_template)):  # a dump deparses CHECK (... IN ...) anew
            with connection(dsn) as conn:
                shapes.append({k: _casts_and_parens_removed(v) for k, v in ownership.catalog(conn).items()
                               if k[0] not in ("role", "membership") and "app_late" not in k[1] + k[2]})
        assert shapes[1] == shapes[0]
    finally:
        demo.drop_database(pg_server, name)
