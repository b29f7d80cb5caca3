"""The compatibility check on demand (`tenant-migrate compat` and `tenant-migrate check`).

It needs the schema each phase leaves behind without touching the database: a schema-only copy
(pg_dump --schema-only, plus the ledger's rows so that applied phases stay applied) into a scratch
database on the same server, migrated by the runner phase by phase, the app's statements checked before
the first phase and after each, then dropped. Why schema-only: whether a statement prepares and plans,
and what it returns, depends on the schema and the roles, never on the rows; so the copy takes seconds
whatever the database's size, and the source is only read (pg_stat_statements and pg_dump). Roles are
the server's, shared by the copy: phase 8 creates tenant_app, tenant_legacy and tenant_owner (NOLOGIN)
if they are missing, as it would on the real database.
"""

from __future__ import annotations

import logging
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg

from tenant_migrate import ownership, runner
from tenant_migrate.backup.tools import find_pg_dump, script_for_server, sibling, tool_error
from tenant_migrate.check.review import adopted, require_no_refusal, review
from tenant_migrate.compat.findings import (
    Checks,
    StatementFinding,
    compare,
    summary,
    unchecked,
    unchecked_line,
    unconfined,
)
from tenant_migrate.compat.prepare import check_all
from tenant_migrate.compat.statements import Statement, read
from tenant_migrate.db import connection, create_database, drop_database, scalar
from tenant_migrate.dsn import database_name, describe, tool_env, with_database
from tenant_migrate.errors import MigrationError, first_line
from tenant_migrate.lock import migration_lock
from tenant_migrate.pending import drive
from tenant_migrate.plan import Phase
from tenant_migrate.pooler import require_session
from tenant_migrate.probe import ProbeUnavailable
from tenant_migrate.steps import Settings

log = logging.getLogger("tenant_migrate.compat")


@dataclass
class Report:
    """The check of every pending phase: notes (one line each), the statements, how they stood before the first
    phase, and the findings of each phase."""

    database: str
    notes: list[str] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    baseline: Checks = field(default_factory=dict)
    findings: list[StatementFinding] = field(default_factory=list)

    def breaks(self) -> bool:
        return any(f.kind == "breaks" for f in self.findings)

    def lines(self) -> list[str]:
        """Every finding on one line, then the statements not checked, then the summary."""
        if not self.statements:
            return self.notes
        findings = [*unconfined(self.statements, self.baseline), *self.findings]
        return [*self.notes, *(f.line() for f in findings),
                *(unchecked_line(s, reason) for s, reason in unchecked(self.statements, self.baseline)),
                f"{self.database}: {summary(self.statements, self.baseline, findings)}"]


def run(dsn: str, settings: Settings | None = None) -> Report:
    """Read the app's statements from `dsn`, then check them on a schema-only copy migrated phase by phase."""
    app = read(dsn)
    found = Report(app.database, [app.unavailable] if app.unavailable else [], app.statements)
    found.notes += app.notes
    if app.unavailable:
        return found
    try:
        return _run_on_a_copy(dsn, settings, found)
    except ProbeUnavailable as exc:  # no session of ours may run the app's code here: none runs it at all
        return Report(app.database, [f"app statements not checked: {exc}"])


def _run_on_a_copy(dsn: str, settings: Settings | None, found: Report) -> Report:
    """run()'s check itself: the copy, migrated phase by phase, the statements checked before and after each."""
    with schema_copy(dsn) as copy:
        found.baseline = check_all(copy, found.statements)
        checked = [found.baseline]  # before the first phase, then after each phase applied
        with migration_lock(copy) as lock_conn:

            def check(pending: list[Phase]) -> None:
                if not pending:
                    found.notes.append(f"{found.database}: every phase is applied: nothing left to check the "
                                       "statements against")

            def act(target: Phase) -> Checks | None:
                after = _apply(copy, lock_conn, target, settings or Settings(), found)
                if after is not None:
                    found.findings += compare(found.statements, checked[-1], after, target.number, target.name)
                    checked.append(after)
                return after

            drive(lock_conn, None, check, act)
    return found


def _apply(copy: str, lock_conn: psycopg.Connection, target: Phase, settings: Settings,
           found: Report) -> Checks | None:
    """Apply one phase to the copy and check the statements; None when the phase cannot be applied. A phase whose
    preflight refuses (a login role without a tenant, for phase 8) is applied anyway, to see what the statements
    would do; one that would touch the app's own objects (the whole-plan check) is not."""
    findings = review(lock_conn, [target], runner.backfill_way(lock_conn, settings.backfill))
    refused = [f for f in findings if f.verdict == "refuse"]
    found.notes += [f"phase {target.number} {target.name}: {f.object} refuses: {f.text} (the migration would stop "
                    "here; applied anyway to the scratch copy, to check the statements)"
                    for f in refused if f.object == "preflight"]
    try:
        require_no_refusal([f for f in refused if f.object != "preflight"])
        runner.run_phase(copy, lock_conn, target, "up", settings, adopted(findings, target.number))
    except MigrationError as exc:
        found.notes.append(f"phase {target.number} {target.name} could not be applied to the scratch copy, so the "
                           f"statements were not checked from there on: {exc}")
        return None
    log.info("phase %d %s applied to the scratch copy: checking the app's statements", target.number, target.name)
    return check_all(copy, found.statements)


@contextmanager
def schema_copy(dsn: str) -> Iterator[str]:
    """A scratch database on the server of `dsn` holding its schema (owners and grants kept, as the statements
    are checked as their roles) and its ledger; dropped on the way out."""
    scratch = f"{database_name(dsn)[:40]}_compat_{secrets.token_hex(4)}"
    with connection(dsn) as admin:
        require_session(admin, dsn)
        has_ledger = scalar(admin, "SELECT to_regnamespace('tenant_migrate') IS NOT NULL")
        server = admin.info.server_version
        try:
            create_database(admin, scratch, "template0")
        except psycopg.Error as exc:
            raise MigrationError(f"cannot create the scratch database of the compatibility check on "
                                 f"{describe(dsn)}: {first_line(exc)}: give role {admin.info.user} CREATEDB, "
                                 "or rely on the staging dry run's check") from None
        try:
            log.info("copying the schema of %s into the scratch database %s", describe(dsn), scratch)
            dumps = [_dump(dsn, ["--schema-only"]), *([_dump(dsn, ["--data-only", "--schema=tenant_migrate"])]
                                                       if has_ledger else [])]
            script = b"".join(b"".join(script_for_server(d.splitlines(keepends=True), server)) for d in dumps)
            _load(with_database(dsn, scratch), script)
            if has_ledger:  # the copy's objects have new oids: its ledger's identities follow them
                with connection(with_database(dsn, scratch)) as copy:
                    ownership.rebind(copy)
            yield with_database(dsn, scratch)
        finally:
            drop_database(admin, scratch)


def _dump(dsn: str, options: list[str]) -> bytes:
    conninfo, env = tool_env(dsn)
    result = subprocess.run([find_pg_dump()["path"], *options, "--no-password", f"--dbname={conninfo}"], env=env,
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise MigrationError(f"pg_dump {' '.join(options)} of {describe(dsn)} failed: "
                             f"{tool_error('pg_dump', result.stderr.decode(errors='replace'), dsn)}")
    return result.stdout


def _load(dsn: str, script: bytes) -> None:
    conninfo, env = tool_env(dsn)
    psql = sibling(find_pg_dump()["path"], "psql")
    result = subprocess.run([psql, "--no-psqlrc", "--quiet", "--no-password", "-v", "ON_ERROR_STOP=1",
                             "--single-transaction", f"--dbname={conninfo}"], input=script, env=env,
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise MigrationError(f"cannot copy the schema into the scratch database {database_name(dsn)}: "
                             f"{tool_error('psql', result.stderr.decode(errors='replace'), dsn)}: the role must be "
                             "able to act as the owners of the app's tables (a superuser, or a member of each)")
