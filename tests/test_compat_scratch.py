"""tenant_migrate/compat/scratch.py: the check on demand, on a schema-only scratch copy migrated phase by phase; the
database itself is only read."""

import pytest
from conftest import APP_UPSERT_CALLS, app_role, snapshot
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tenant_migrate import ledger, runner
from tenant_migrate.compat.scratch import run
from tenant_migrate.compat.statements import read
from tenant_migrate.db import connection
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import MigrationError

CONTRACT = "public."  # the backend contract's statements name their tables with the schema; the hand-written don't


def databases(dsn: str) -> set[str]:
    with connection(dsn) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database")}


def test_the_upsert_breaks_at_phase_5_the_lookup_changes_meaning_and_the_contract_breaks_nowhere(app_db):
    before = snapshot(app_db), {s.key: s.calls for s in read(app_db).statements}, databases(app_db)
    found = run(app_db)
    app = f"{database_name(app_db)}_app"
    where = {(f.kind, f.phase, f.statement.short(200)) for f in found.findings}
    assert ("breaks", 5, "INSERT INTO contacts (phone_number, thread_id) VALUES ($1, $2) ON CONFLICT (phone_number) DO "
            "UPDATE SET thread_id = EXCLUDED.thread_id RETURNING id") in where
    upsert = next(f for f in found.findings if f.kind == "breaks")
    assert (APP_UPSERT_CALLS, app) == (upsert.statement.calls, upsert.statement.role)
    assert f"(role {app}, {APP_UPSERT_CALLS} calls, about" in upsert.line()
    assert upsert.fix.startswith("ON CONFLICT (user_id, phone_number)")
    assert ("changes meaning", 5, "SELECT id, thread_id FROM contacts WHERE phone_number = $1") in where
    assert ("changes meaning", 2, "SELECT * FROM orders WHERE id = $1") in where
    assert ["INSERT INTO contacts (phone_number, thread_id) VALUES ($1, $2) ON CONFLICT (phone_number)…"] == \
        [f.statement.short() for f in found.findings if f.kind == "breaks"]  # the contract's own: none break
    contract_meaning = {f.statement.short() for f in found.findings if f.kind == "changes meaning"
                        and CONTRACT in f.statement.query}
    # its legacy lookup is itself a lookup by phone number alone (the contract runs it only before phase 3)
    assert {"SELECT id, phone_number, thread_id FROM public.contacts WHERE phone_number = $1"} == contract_meaning
    assert not [f for f in found.findings if "INSERT INTO campaigns VALUES" in f.statement.query]  # positional: fine
    assert [] == found.notes
    assert found.lines()[-1].startswith(f"{database_name(app_db)}: ")
    assert before == (snapshot(app_db), {s.key: s.calls for s in read(app_db).statements}, databases(app_db))


def test_a_role_without_a_tenant_breaks_at_phase_8_and_preflight_would_refuse_it(app_db):
    raw = app_role(app_db, "app_raw", tenant=False)
    with connection(raw) as conn:
        conn.execute("SELECT name FROM contacts WHERE id = %s", (1,))
    lines = run(app_db).lines()
    role = f"{database_name(app_db)}_app_raw"
    assert [x for x in lines if x.startswith(f"phase 8 08_row_level_security: preflight refuses: login role {role} "
                                             "can read public.contacts but has no tenant")]
    assert [x for x in lines if x.startswith("breaks at phase 8 08_row_level_security: SELECT name FROM contacts "
                                             f"WHERE id = $1 (role {role}, 1 calls") and
            x.endswith(f"has no tenant: it sees no rows and its writes are refused; fix: GRANT tenant_legacy TO "
                       f"{role} (legacy code: it then sees tenant 1), or tenant_app if it names its tenant per "
                       "transaction (SELECT public.app_set_tenant(...)))")]


def test_a_database_migrated_in_part_is_checked_against_the_phases_still_to_apply(app_db):
    runner.migrate(app_db, to=3)
    found = run(app_db)
    assert {5} == {f.phase for f in found.findings if f.kind == "breaks"}
    assert not [f for f in found.findings if f.phase <= 3]
    with connection(app_db) as conn:
        assert {1, 2, 3} == ledger.applied_phases(conn)


def test_without_pg_stat_statements_the_report_is_one_line(legacy_db):
    assert 1 == len(run(legacy_db).lines())
    assert run(legacy_db).lines()[0].startswith("app statements not checked: pg_stat_statements is not installed")


def test_a_role_that_cannot_create_the_scratch_database_gets_one_line_and_leaves_nothing(app_db):
    role = f"{database_name(app_db)}_app_nocreatedb"
    with connection(app_db) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE pg_read_all_stats").format(sql.Identifier(role)))
    before = databases(app_db)
    with pytest.raises(MigrationError, match=f"^cannot create the scratch database of the compatibility check on .*: "
                                             f"permission denied to create database: give role {role} CREATEDB"):
        run(make_conninfo(app_db, user=role))
    assert before == databases(app_db)
