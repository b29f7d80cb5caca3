"""Great Expectations validation of each phase, against real PostgreSQL databases (no mocks).

One session-wide chain of templates: a legacy database is migrated one phase at a time with the
runner, and after each phase a template database `tm_test_validate_pN` is copied from it. Each test
clones the template of the phase it needs (CREATE DATABASE ... TEMPLATE), breaks it on purpose when
it wants a failure, and checks that the right expectation fails.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from psycopg import sql
from typer.testing import CliRunner

from tenant_migrate import demo, ledger
from tenant_migrate.db import Counts, connection, create_database, table_stats
from tenant_migrate.dsn import with_database
from tenant_migrate.errors import MigrationError
from tenant_migrate.paths import SQL_DIR
from tenant_migrate.plan import default_target, load_plan
from tenant_migrate.validation.checkpoints import sqlalchemy_url, validate_phase
from tenant_migrate.validation.results import summary_line
from tenant_migrate.validation.suites import load_suite, phase_names, read_suite_file

PHASES = phase_names()
WORK = "tm_test_validate_work"
_counter = itertools.count()


def _template(number: int) -> str:
    return f"tm_test_validate_p{number}"


AVAILABLE = [n for n in sorted(PHASES) if n <= default_target()]  # a plain server's phases; 9: tests/test_citus.py


def _create_from(server: str, name: str, template: str) -> None:
    demo.drop_database(server, name)
    with connection(server) as conn:
        create_database(conn, name, template)


@pytest.fixture(scope="session")
def phase_templates(pg_server: str, legacy_template: str) -> Iterator[dict[int, str]]:
    """Phase number -> template database migrated exactly to that phase (built once per session)."""
    from tenant_migrate.runner import migrate

    _create_from(pg_server, WORK, legacy_template)
    work = with_database(pg_server, WORK)
    built = {}
    for number in AVAILABLE:
        migrate(work, to=number)
        _create_from(pg_server, _template(number), WORK)
        built[number] = _template(number)
    yield built
    for name in [*built.values(), WORK]:
        demo.drop_database(pg_server, name)


@pytest.fixture
def at_phase(pg_server: str, phase_templates: dict[int, str]) -> Iterator[Callable[[int], str]]:
    """at_phase(n) -> DSN of a fresh database migrated exactly to phase n (dropped after the test)."""
    made = []

    def make(number: int) -> str:
        name = f"tm_test_val_{os.getpid()}_{next(_counter)}"
        _create_from(pg_server, name, phase_templates[number])
        made.append(name)
        return with_database(pg_server, name)

    yield make
    for name in made:
        demo.drop_database(pg_server, name)


def run(dsn: str, number: int) -> dict:
    return validate_phase(dsn, number, docs=False)


def execute(dsn: str, *statements: str) -> None:
    with connection(dsn) as conn:
        for statement in statements:
            conn.execute(statement)


def failing(result: dict, check: str, text: str) -> dict:
    """The failed entry of this check whose description contains text (fails the test if absent)."""
    matches = [f for f in result["failed"] if f["check"] == check and text in f["expectation"]]
    assert matches, f"no failing {check!r} expectation mentioning {text!r}; failed: {result['failed']}"
    return matches[0]


# --- suites and loader (no database) ----------------------------------------------------------------

@pytest.mark.parametrize("number", sorted(PHASES))
def test_every_phase_has_a_suite_that_loads_whole(number: int) -> None:
    data = read_suite_file(PHASES[number])
    suite = load_suite(PHASES[number], data)
    assert len(suite.expectations) == len(data["expectations"]) >= 3
    # every suite compares row counts with the snapshot taken before the phase
    assert any(e.get("meta", {}).get("check") == "row_counts" for e in data["expectations"])


def test_loader_refuses_a_suite_with_an_unknown_expectation_type() -> None:
    data = read_suite_file(PHASES[4])
    broken = {**data, "expectations": [*data["expectations"], {"type": "expect_tables_to_be_nice", "kwargs": {}}]}
    with pytest.raises(MigrationError, match="expect_tables_to_be_nice"):
        load_suite(PHASES[4], broken)


def test_loading_does_not_rewrite_the_suite_files(at_phase: Callable[[int], str]) -> None:
    before = {n: (SQL_DIR.parent / "expectations" / f"{name}.json").read_bytes() for n, name in PHASES.items()}
    run(at_phase(min(AVAILABLE)), min(AVAILABLE))
    after = {n: (SQL_DIR.parent / "expectations" / f"{name}.json").read_bytes() for n, name in PHASES.items()}
    assert before == after


def test_sqlalchemy_url_puts_a_host_in_the_netloc() -> None:
    assert "postgresql+psycopg://u:pw@db.example:6543/app?application_name=tenant-migrate%2Fvalidate" == \
        sqlalchemy_url("postgresql://u:pw@db.example:6543/app")
    socket_url = sqlalchemy_url("host=/run/postgresql dbname=app user=u")
    assert socket_url.startswith("postgresql+psycopg://u@localhost/app?") and "host=%2Frun%2Fpostgresql" in socket_url


def test_bad_phase_number_is_one_line() -> None:
    beyond = len(load_plan()) + 1
    with pytest.raises(MigrationError, match=f"there is no phase {beyond}: the plan has phases 1 to {beyond - 1}"):
        validate_phase("postgresql://nobody@127.0.0.1:1/x", beyond, docs=False)


# --- each phase passes after a correct apply ---------------------------------------------------------

@pytest.mark.parametrize("number", AVAILABLE)  # phase 9's suite: on the Citus cluster, tests/test_citus.py
def test_suite_passes_after_a_correct_apply(at_phase: Callable[[int], str], number: int) -> None:
    result = run(at_phase(number), number)
    assert result["success"], summary_line(result)
    assert result["evaluated"] == result["passed"] == len(read_suite_file(PHASES[number])["expectations"])
    json.dumps(result)  # the runner stores it as jsonb


# --- and fails, naming the right expectation, when the database is broken on purpose ---------------

def test_phase1_missing_foreign_key(at_phase: Callable[[int], str]) -> None:
    dsn = at_phase(1)
    with connection(dsn) as conn:
        name = conn.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'public.chatbots'::regclass "
                            "AND contype = 'f'").fetchone()[0]
        conn.execute(sql.SQL("ALTER TABLE chatbots DROP CONSTRAINT {}").format(sql.Identifier(name)))
    entry = failing(run(dsn, 1), "constraints", "reference users")
    assert entry["unexpected_rows"] == [{"tbl": "chatbots", "col": "user_id", "ref": "users", "problem": "missing"}]


def test_phase2_tenant_column_without_its_default_and_a_dropped_app_column(at_phase: Callable[[int], str]) -> None:
    dsn = at_phase(2)
    execute(dsn, "ALTER TABLE messages ALTER COLUMN chatbot_id DROP DEFAULT",
            "ALTER TABLE campaigns DROP COLUMN message_template")
    result = run(dsn, 2)
    entry = failing(result, "columns", "user_id and chatbot_id")
    assert entry["unexpected_rows"] == [{"tbl": "messages", "col": "chatbot_id", "way": "instant",
                                         "problem": "no DEFAULT 1"}]
    gone = failing(result, "app untouched", "no object of the app's")["unexpected_rows"]
    assert {"kind": "column", "table_name": "campaigns", "name": "message_template", "before": "text",
            "now": None} in gone


def test_phase4_unvalidated_foreign_key(at_phase: Callable[[int], str]) -> None:
    dsn = at_phase(4)
    execute(dsn, "ALTER TABLE messages DROP CONSTRAINT messages_chatbot_id_fkey",
            "ALTER TABLE messages ADD CONSTRAINT messages_chatbot_fk FOREIGN KEY (user_id, chatbot_id) "
            "REFERENCES chatbots (user_id, id) NOT VALID")
    entry = failing(run(dsn, 4), "constraints", "(user_id, chatbot_id) -> chatbots")
    assert entry["unexpected_rows"][0]["problem"] == "not validated"


def test_phase3_wrong_admin_email_and_stale_sequence(at_phase: Callable[[int], str]) -> None:
    dsn = at_phase(3)
    execute(dsn, "UPDATE users SET email = 'someone@else.example' WHERE id = 1",
            "SELECT setval(pg_get_serial_sequence('public.chatbots', 'id'), 1, false)")
    result = run(dsn, 3)
    entry = failing(result, "admin", "configured email")
    assert entry["unexpected_rows"][0]["found_email"] == "someone@else.example"
    assert failing(result, "admin", "sequences")["unexpected_rows"][0]["tbl"] == "chatbots"
    assert validate_phase(dsn, 3, docs=False, admin_email="someone@else.example")["failed"][0]["check"] == "admin"


def flow_count(dsn: str) -> Counts:
    """The flow's count after phase 4 (row_counts_task's): since the phase's snapshot, with the rows off tenant 1."""
    with connection(dsn) as conn:
        return table_stats(conn, since=ledger.snapshot(conn, ledger.latest_run(conn, 4)["id"]), tenants=True)


COUNTED = pytest.mark.parametrize("counted", [False, True], ids=["standalone", "after the flow's count"])


@COUNTED
def test_phase4_null_user_id_slipped_in(at_phase: Callable[[int], str], counted: bool) -> None:
    dsn = at_phase(4)
    execute(dsn, "ALTER TABLE messages ALTER COLUMN user_id DROP NOT NULL",  # phase 4 made it NOT NULL
            "UPDATE messages SET user_id = NULL WHERE id = (SELECT min(id) FROM messages)")
    count = flow_count(dsn) if counted else None
    assert count is None or count.off_tenant_1() == {**dict.fromkeys(count.tenants, 0), "messages": 1}
    result = validate_phase(dsn, 4, docs=False, counted=count)
    entry = failing(result, "tenancy", "no row without a tenant")
    assert entry["unexpected_rows"] == [{"table_name": "messages", "no_tenant": 1, "not_on_tenant_1": 0}]
    failing(result, "tenancy", "same tenant as its contact")


@COUNTED
def test_phase4_rows_on_another_tenant_than_their_contact_or_campaign(at_phase: Callable[[int], str],
                                                                     counted: bool) -> None:
    """The check counts its parts from the rows off tenant 1; its counts equal those of one join of every row, for a
    row moved off tenant 1, a contact moved off it (its messages, orders and subscriptions stay) and a campaign. After
    the flow's count, the parts that start from orders and subscriptions (none off tenant 1) do not run."""
    dsn = at_phase(4)
    execute(dsn, "INSERT INTO users (id, email) VALUES (2, 'second@tenant.example')",
            "INSERT INTO chatbots (id, user_id, name) VALUES (2, 2, 'second')",
            "UPDATE messages SET user_id = 2, chatbot_id = 2 WHERE id = (SELECT max(id) FROM messages)",
            "UPDATE contacts SET user_id = 2, chatbot_id = 2 WHERE id = (SELECT min(o.contact_id) FROM orders AS o "
            "JOIN campaign_subscribers AS cs USING (contact_id) JOIN messages AS m USING (contact_id))",
            "UPDATE campaigns SET user_id = 2, chatbot_id = 2 WHERE id = (SELECT max(campaign_id) "
            "FROM campaign_subscribers)")
    one_join = """
        SELECT 'messages', count(*) FROM messages AS m JOIN contacts AS c ON c.id = m.contact_id
        WHERE m.user_id IS DISTINCT FROM c.user_id
        UNION ALL
        SELECT 'orders', count(*) FROM orders AS o JOIN contacts AS c ON c.id = o.contact_id
        WHERE o.user_id IS DISTINCT FROM c.user_id
        UNION ALL
        SELECT 'campaign_subscribers', count(*) FROM campaign_subscribers AS cs
        JOIN campaigns AS ca ON ca.id = cs.campaign_id JOIN contacts AS c ON c.id = cs.contact_id
        WHERE ca.user_id IS DISTINCT FROM c.user_id OR cs.user_id IS DISTINCT FROM c.user_id"""
    with connection(dsn) as conn:
        expected = [{"table_name": t, "mismatched_rows": n} for t, n in conn.execute(one_join)]
    assert all(row["mismatched_rows"] > 0 for row in expected) and expected[0]["mismatched_rows"] > 1, expected
    count = flow_count(dsn) if counted else None
    assert count is None or count.tenants == {"contacts": (0, 1), "messages": (0, 1), "orders": (0, 0),
                                              "campaigns": (0, 1), "campaign_subscribers": (0, 0)}
    result = validate_phase(dsn, 4, docs=False, counted=count)
    assert failing(result, "tenancy", "same tenant as its contact")["unexpected_rows"] == expected
    moved = failing(result, "tenancy", "no row without a tenant")["unexpected_rows"]
    assert {(r["table_name"], r["not_on_tenant_1"]) for r in moved} == {
        ("messages", 1), ("contacts", 1), ("campaigns", 1)}


def test_phase4_duplicates_that_phase_5s_per_tenant_key_would_refuse(at_phase: Callable[[int], str]) -> None:
    """While the app's unique key on phone_number is in place, it proves the per-tenant key holds and nothing is read;
    without it (dropped here, as a schema that never had one), two contacts of tenant 1 with one phone are found."""
    dsn = at_phase(4)
    assert "duplicates" not in {f["check"] for f in run(dsn, 4)["failed"]}
    execute(dsn, "ALTER TABLE contacts DROP CONSTRAINT contacts_phone_number_key",
            "INSERT INTO contacts (phone_number) SELECT phone_number FROM contacts ORDER BY id LIMIT 1")
    assert failing(run(dsn, 4), "duplicates", "(user_id, phone_number)")["observed"] == 1


def test_phase4_deleted_row_against_the_snapshot(at_phase: Callable[[int], str]) -> None:
    dsn = at_phase(4)
    execute(dsn, "DELETE FROM campaign_subscribers WHERE id = (SELECT min(id) FROM campaign_subscribers)",
            "INSERT INTO contacts (phone_number, thread_id) VALUES ('+10000000001', 'live-writer')")
    result = run(dsn, 4)
    assert [f["check"] for f in result["failed"]] == ["row_counts"]
    row = result["failed"][0]["unexpected_rows"][0]
    assert row["table_name"] == "campaign_subscribers" and row["live_rows"] == row["snapshot_rows"] - 1


def test_a_lost_row_is_found_though_the_app_added_more_since_the_snapshot(at_phase: Callable[[int], str]) -> None:
    """The flow's count after a phase takes the rows up to the snapshot's max id: a phase that lost one row while
    the app added two fails, where a count of every row (one more than the snapshot) would pass it."""
    dsn = at_phase(4)
    execute(dsn, "DELETE FROM orders WHERE id = (SELECT min(id) FROM orders)",
            "INSERT INTO orders (status) VALUES ('live-writer'), ('live-writer')")
    with connection(dsn) as conn:
        snapshot = ledger.snapshot(conn, ledger.latest_run(conn, 4)["id"])
        counted = table_stats(conn, since=snapshot)
    assert counted.rows()["orders"] == snapshot["orders"][0] + 1
    result = validate_phase(dsn, 4, docs=False, counted=counted)
    assert [f["check"] for f in result["failed"]] == ["row_counts"]
    row = result["failed"][0]["unexpected_rows"][0]
    assert row["table_name"] == "orders" and row["live_rows"] == row["snapshot_rows"] - 1
    assert validate_phase(dsn, 4, docs=False, counted=replace(counted, kept=counted.rows()))["success"]


def test_phase5_dropped_composite_unique_and_restored_single_unique(at_phase: Callable[[int], str]) -> None:
    dsn = at_phase(5)
    with connection(dsn) as conn:
        name = conn.execute("""
            SELECT k.conname FROM pg_constraint AS k
            WHERE k.conrelid = 'public.contacts'::regclass AND k.contype = 'u'
              AND ARRAY(SELECT a.attname::text FROM pg_attribute AS a WHERE a.attrelid = k.conrelid
                        AND a.attnum = ANY (k.conkey) ORDER BY a.attname) = ARRAY['phone_number', 'user_id']
        """).fetchone()[0]
        conn.execute(sql.SQL("ALTER TABLE contacts DROP CONSTRAINT {}").format(sql.Identifier(name)))
        conn.execute("CREATE UNIQUE INDEX some_other_name ON contacts (thread_id)")
    result = run(dsn, 5)
    entry = failing(result, "constraints", "per-user unique")
    assert entry["unexpected_rows"] == [{"tbl": "contacts", "columns": "unique_contact_per_user"}]
    single = failing(result, "constraints", "no unique key of the app's left")
    assert single["unexpected_rows"] == [{"index_name": "some_other_name", "column_name": "thread_id"}]


def test_phase5_nullable_tenant_column(at_phase: Callable[[int], str]) -> None:
    dsn = at_phase(5)
    execute(dsn, "ALTER TABLE orders ALTER COLUMN chatbot_id DROP NOT NULL")
    entry = failing(run(dsn, 5), "constraints", "NOT NULL")
    assert entry["unexpected_rows"] == [{"tbl": "orders", "col": "chatbot_id"}]


def test_phase6_missing_table(at_phase: Callable[[int], str]) -> None:
    dsn = at_phase(6)
    execute(dsn, "DROP TABLE webhooks")
    result = run(dsn, 6)
    assert failing(result, "tables", "tables exist")["unexpected_rows"] == [{"missing_table": "webhooks"}]


def test_phase7_missing_index(at_phase: Callable[[int], str]) -> None:
    dsn = at_phase(7)
    with connection(dsn) as conn:
        indexes = [r[0] for r in conn.execute(
            "SELECT i.relname FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid "
            "JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0] "
            "WHERE x.indrelid = 'public.messages'::regclass AND a.attname = 'sent_at'")]
        for name in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    assert indexes
    entry = failing(run(dsn, 7), "indexes", "every index of the plan")
    assert entry["unexpected_rows"] == [{"tbl": "messages", "columns": "sent_at"}]


# --- the CLI -------------------------------------------------------------------------------------

def test_cli_exit_codes_and_json(at_phase: Callable[[int], str]) -> None:
    from tenant_migrate.cli.main import app

    dsn = at_phase(4)
    cli = CliRunner()
    ok = cli.invoke(app, ["validate", "--phase", "4", "--dsn", dsn, "--json", "--no-docs"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["success"] is True
    execute(dsn, "ALTER TABLE contacts ALTER COLUMN chatbot_id DROP NOT NULL",
            "UPDATE contacts SET chatbot_id = NULL WHERE id = (SELECT min(id) FROM contacts)")
    bad = cli.invoke(app, ["validate", "--phase", "4", "--dsn", dsn, "--no-docs"])
    assert bad.exit_code == 1
    assert "FAILED no row without a tenant; every row that existed before phase 4 on user 1 / chatbot 1 (one scan " \
           "per table): 1 unexpected row(s), e.g. {\"table_name\": \"contacts\", \"no_tenant\": 1" in bad.output
    wrong = cli.invoke(app, ["validate", "--phase", "0", "--dsn", dsn])
    assert wrong.exit_code == 1
    assert wrong.output.strip() == f"error: there is no phase 0: the plan has phases 1 to {len(load_plan())}"


def test_data_docs_are_written_without_the_password(at_phase: Callable[[int], str], tmp_path) -> None:
    dsn = at_phase(1).replace("postgresql://postgres@", "postgresql://postgres:pw-never-shown@")
    result = validate_phase(dsn, 1, reports_dir=tmp_path)
    assert result["success"] and result["data_docs"] == str(tmp_path / "index.html")
    assert (tmp_path / "index.html").exists()
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".json"):
            assert "pw-never-shown" not in path.read_text(errors="replace")
    assert "pw-never-shown" not in json.dumps(result)


def test_data_docs_are_private_whatever_the_umask(at_phase: Callable[[int], str], tmp_path) -> None:
    """The pages sample the rows they checked (customer data): folders 0700, files 0600, even those GX wrote."""
    site = tmp_path / "reports" / "run-1"
    old = os.umask(0)
    try:
        assert validate_phase(at_phase(1), 1, reports_dir=site)["success"]
    finally:
        os.umask(old)
    written = [site.parent, site, *site.rglob("*")]
    assert len(written) > 10
    assert {str(p): 0o700 if p.is_dir() else 0o600 for p in written} == {str(p): p.stat().st_mode & 0o777
                                                                         for p in written}


# --- GX setup reused within the process ----------------------------------------------------------

def _connections(dsn: str) -> list[tuple[str, str]]:
    """The client sessions on the database but this one, by application name and state (autovacuum's and parallel
    workers, which may come and go at any time, left out)."""
    with connection(dsn) as conn:
        return conn.execute("SELECT application_name, coalesce(state, '') FROM pg_stat_activity "
                            "WHERE datname = current_database() AND backend_type = 'client backend' "
                            "AND pid <> pg_backend_pid()").fetchall()


def test_reused_setup_sees_changes_between_runs_and_leaks_no_connection(at_phase: Callable[[int], str]) -> None:
    dsn = at_phase(5)
    assert run(dsn, 5)["success"]
    assert _connections(dsn) == []
    execute(dsn, "ALTER TABLE orders ALTER COLUMN chatbot_id DROP NOT NULL")
    result = run(dsn, 5)  # same database, same phase: the cached GX objects must not hide the breakage
    assert failing(result, "constraints", "NOT NULL")["unexpected_rows"] == [{"tbl": "orders", "col": "chatbot_id"}]
    assert not result["success"]
    assert _connections(dsn) == []
    execute(dsn, "ALTER TABLE campaigns DROP COLUMN message_template")  # a schema change of the app's
    result = run(dsn, 5)
    assert any(row.get("name") == "message_template" for f in result["failed"]
               for row in f.get("unexpected_rows", [])), result["failed"]
    assert _connections(dsn) == []


def test_query_expectation_runs_its_query_once_and_caps_the_count_at_200(at_phase: Callable[[int], str]) -> None:
    import great_expectations as gx

    from tenant_migrate.validation.suites import _unexpected_rows_expectation_class

    assert not [e for n in PHASES.values() for e in read_suite_file(n)["expectations"]
                if e["type"] == "unexpected_rows_expectation"]  # GX's own runs each query twice
    cls = _unexpected_rows_expectation_class(gx)
    assert cls.metric_dependencies == ("unexpected_rows_query.table",)
    context = gx.get_context(mode="ephemeral")
    datasource = context.data_sources.add_postgres(name="t", connection_string=sqlalchemy_url(at_phase(1)))
    batch = datasource.add_query_asset(name="q", query="SELECT 1 AS one").add_batch_definition_whole_table("w") \
        .get_batch()
    try:
        many = batch.validate(cls(unexpected_rows_query="SELECT g FROM generate_series(1, 300) AS g CROSS JOIN "
                                                        "{batch} AS b"), result_format="COMPLETE")
        none = batch.validate(cls(unexpected_rows_query="SELECT one FROM {batch} WHERE one <> 1"))
    finally:  # the datasource's engine and its execution engine's are two: close both pools
        datasource.get_execution_engine().engine.dispose()
        datasource.get_engine().dispose()
    assert not many.success and many.result["observed_value"] == 200
    assert len(many.result["details"]["unexpected_rows"]) == 200
    assert none.success and none.result["observed_value"] == 0
