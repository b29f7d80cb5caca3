"""tenant_migrate/compat/findings.py: what a phase does to each statement, said in one line and at the gate."""

from tenant_migrate.compat.findings import compare, fix_for, gate_section, summary
from tenant_migrate.compat.prepare import Check
from tenant_migrate.compat.statements import Statement

UPSERT = Statement(1, "app", "INSERT INTO contacts (phone_number) VALUES ($1) ON CONFLICT (phone_number) DO NOTHING",
                   4_000, 41_000.4)
LOOKUP = Statement(2, "app", "SELECT id FROM contacts WHERE phone_number = $1", 900, 9_000.0)
STAR = Statement(3, "app", "SELECT * FROM orders WHERE id = $1", 10, 100.0)
COPY = Statement(4, "app", "COPY contacts FROM STDIN", 2, 2.0)
BEGIN = Statement(5, "app", "BEGIN", 5_000, 50_000.0)
ALL = [UPSERT, LOOKUP, STAR, COPY, BEGIN]
ARBITER = "there is no unique or exclusion constraint matching the ON CONFLICT specification"
BEFORE = {UPSERT.key: Check("ok", columns=("id",)), LOOKUP.key: Check("ok", columns=("id",)),
          STAR.key: Check("ok", columns=("id", "status")),
          COPY.key: Check("unchecked", "a utility command: PREPARE cannot check it"), BEGIN.key: Check("session")}
AFTER = {**BEFORE, UPSERT.key: Check("fails", ARBITER), LOOKUP.key: Check("ok", columns=("id",),
                                                                       lookups=("contacts.phone_number",)),
         STAR.key: Check("ok", columns=("id", "status", "user_id"))}


def test_a_statement_that_prepared_before_and_fails_after_breaks_at_that_phase_with_the_known_fix():
    found = compare(ALL, BEFORE, AFTER, 5, "05_update_constraints")
    breaks = [f.line() for f in found if f.kind == "breaks"]
    assert ["breaks at phase 5 05_update_constraints: INSERT INTO contacts (phone_number) VALUES ($1) ON CONFLICT "
            "(phone_number) DO NOTHING (role app, 4,000 calls, about 41,000 a day): " + ARBITER + "; fix: ON CONFLICT "
            "(user_id, phone_number), or ON CONFLICT DO NOTHING and read the row back (what "
            "backend_contract.get_or_create_contact does)"] == breaks


def test_new_columns_and_a_lookup_without_the_tenant_change_meaning():
    found = {f.statement.queryid: f for f in compare(ALL, BEFORE, AFTER, 5, "05") if f.kind == "changes meaning"}
    assert "returns 3 columns instead of 2 (new: user_id)" == found[3].detail
    assert "name the columns it needs instead of *" == found[3].fix
    assert found[2].detail.startswith("looks up contacts by phone_number without the tenant: one row today, possibly "
                                      "another tenant's")
    assert {2, 3} == set(found)


def test_a_lookup_confined_by_row_level_security_is_said_and_a_role_without_a_tenant_breaks():
    before = {LOOKUP.key: AFTER[LOOKUP.key], STAR.key: Check("ok", columns=("id",))}
    after = {LOOKUP.key: Check("ok", columns=("id",)), STAR.key: Check("ok", columns=("id",), no_tenant=True)}
    found = compare([LOOKUP, STAR], before, after, 8, "08_row_level_security")
    assert [("confined", 2), ("breaks", 3)] == [(f.kind, f.statement.queryid) for f in found]
    assert found[1].fix.startswith("GRANT tenant_legacy TO app")


def test_statements_that_could_not_be_checked_before_are_not_judged_after():
    after = {COPY.key: Check("fails", "x"), BEGIN.key: Check("fails", "x")}
    assert [] == compare([COPY, BEGIN], BEFORE, after, 5, "05")


def test_fixes_we_know_by_the_error():
    assert fix_for(STAR, 'column reference "currency" is ambiguous').startswith("qualify currency with its table")
    assert "" == fix_for(STAR, "division by zero")


def test_the_gate_section_names_the_count_and_daily_calls_of_what_fails_lists_the_unchecked_and_sums_up():
    found = compare(ALL, BEFORE, AFTER, 5, "05_update_constraints")
    section = gate_section(ALL, BEFORE, found)
    assert "**1 app statement, about 41,000 calls a day, fails after this phase:**" in section
    assert "**2 change meaning without an error:**" in section
    assert "1 not checked (listed, not hidden):\n- `COPY contacts FROM STDIN` (role app, 2 calls, about 2 a day): " \
           "a utility command: PREPARE cannot check it" in section
    assert section.endswith(summary(ALL, BEFORE, found) + ", prepared as the roles that ran them.")
    assert "5 app statements (about 100,102 calls a day): 1 breaking, 2 changing meaning, 0 fine, 1 unchecked, " \
           "1 transaction or session statements (unaffected)" == summary(ALL, BEFORE, found)


def test_without_pg_stat_statements_the_gate_says_so_in_one_line():
    assert "#### App statements (from pg_stat_statements)\nnot installed" == gate_section([], {}, [], "not installed")


def test_a_phase_that_breaks_nothing_says_so():
    nothing = compare(ALL, BEFORE, BEFORE, 1, "01")
    assert "No app statement fails after this phase." in gate_section(ALL, BEFORE, nothing)
