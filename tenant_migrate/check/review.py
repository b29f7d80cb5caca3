"""The whole-plan check: every phase still to apply held against the live catalog, before anything changes.

Read-only: it writes nothing, not even the ledger. `tenant-migrate check` prints it (exit 1 on a refusal),
`tenant-migrate plan --dsn` lists its verdict per object, and every migrate run starts with it.
"""

from __future__ import annotations

import psycopg

from tenant_migrate import ledger, ownership
from tenant_migrate.check import data, environment, soft_references, uniques
from tenant_migrate.check.objects import Finding, review_phase
from tenant_migrate.citus import readiness
from tenant_migrate.errors import ConflictError
from tenant_migrate.paths import read_sql
from tenant_migrate.plan import Phase


def review(conn: psycopg.Connection, phases: list[Phase], way: str, keep: tuple[str, ...] = (),
           counted: dict[str, tuple[int, int]] | None = None) -> list[Finding]:
    """Create, adopt or refuse for every object the phases create; notes and refusals about the database; the rows
    of the app's that would break a constraint the phases add or validate (tenant_migrate.check.data); the app's unique
    keys phase 5 makes per tenant, in their shape, or refused (tenant_migrate.check.uniques); the app's
    tables holding values phase 5 makes unique per tenant only, and the global unique keys `keep` keeps
    (tenant_migrate.check.soft_references). `counted`: the tenant figures of a count just taken (Counts.tenants)."""
    if not phases:
        return []
    mine = ownership.created_keys(conn) if ledger.exists(conn) else set()
    building = ownership.pending_indexes(conn) if ledger.exists(conn) else set()
    cat = {k: v for k, v in ownership.catalog(conn).items()  # without a resumed phase's own objects
           if k not in mine and not (k[0] == "index" and k[2] in building)}
    unsafe = {r[0] for r in conn.execute(read_sql("ownership/unsafe_roles.sql"))}
    numbers = {p.number for p in phases}
    findings = environment.preflight_findings(conn, phases)
    findings += environment.partitions(conn, numbers)
    findings += environment.keys(conn, numbers)
    findings += environment.triggers(conn, numbers, way)
    findings += environment.references(conn, numbers, cat)
    findings += environment.views(conn, numbers)
    if readiness.PHASE in numbers:
        findings += readiness.findings(conn)
    for target in phases:
        findings += review_phase(target, cat, unsafe)
    findings = uniques.findings(conn, numbers, findings, keep)
    findings += soft_references.kept_uniques(conn, numbers, keep, cat)
    return findings + data.conflicts(conn, numbers, counted) + soft_references.soft_references(conn, numbers, keep)


def refusals(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.verdict == "refuse"]


def require_no_refusal(findings: list[Finding]) -> None:
    """Stop, before any change, naming the first refusal (and how many there are)."""
    refused = refusals(findings)
    if refused:
        more = f" (and {len(refused) - 1} more: see `tenant-migrate check`)" if len(refused) > 1 else ""
        first = refused[0]
        raise ConflictError(f"check: phase {first.phase} {first.object}: {first.text}{more}; nothing was changed",
                            findings=refused)


def adopted(findings: list[Finding], number: int) -> ownership.Catalog:
    """The app objects phase `number` adopts."""
    return {k: v for f in findings if f.phase == number and f.verdict == "adopt" for k, v in f.adopted.items()}
