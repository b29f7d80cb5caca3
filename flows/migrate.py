"""The `migrate` flow: each phase as a subflow (preflight, backup, apply, validate), then a go/no-go gate.

The gate comes after the phase is applied and validated, and asks "go on to the next phase?". That is
deliberate: the operator decides on evidence (the validation result, row counts after, the backup)
rather than on a promise, and a "no" rolls back the phase that was just applied by its down script.
Once every phase is applied, the acceptance checklist (the plan's "Testing & Validation") runs.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import psycopg
from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from tenant_migrate.acceptance import LOAD_SECONDS, LOAD_TENANTS
from tenant_migrate.dsn import describe
from tenant_migrate.flows import gate
from tenant_migrate.flows.forecast import gate_section, load_rates, publishing_rates, recorded
from tenant_migrate.flows.monitor import Budgets, drawing_plots, watching
from tenant_migrate.flows.session import backup_folder, migration_lock, resolve_database
from tenant_migrate.options import check_migrate_options
from tenant_migrate.pending import drive
from tenant_migrate.plan import Phase
from tenant_migrate.steps import Settings
from tenant_migrate.tasks.acceptance import acceptance_task
from tenant_migrate.tasks.apply import (
    all_applied_task,
    applied_earlier_task,
    apply_task,
    check_task,
    rollback_task,
    ungated_task,
)
from tenant_migrate.tasks.backup import backup_task
from tenant_migrate.tasks.common import artifact_key, artifacts_sent, send_artifact, without_heartbeat
from tenant_migrate.tasks.compat import compat_after_task, compat_before_task
from tenant_migrate.tasks.preflight import preflight_task
from tenant_migrate.tasks.validate import row_counts_task, validate_task


def run_phase_subflow(dsn: str, lock_conn: psycopg.Connection, target: Phase, settings: Settings,
                      backup_dir: Path | None, data_docs: bool,
                      applied: dict[str, Any] | None = None, app_dsn: str | None = None,
                      budgets: Budgets | None = None) -> gate.PhaseEvidence:
    """One phase: preflight, backup (+ verify), apply, validate, with the guard beside it. Returns the gate's
    evidence.

    `applied`: the ledger run of the last phase when it was applied by an earlier run that stopped before its
    go/no-go (killed at the gate, or the plain runner); it is validated and gated again, not left unapproved.
    The app's statements (pg_stat_statements of `app_dsn`, default `dsn`) are checked before the apply and after
    the validation; what the phase breaks or changes is a section of the gate.
    """

    @flow(name=target.name)
    def phase_flow() -> gate.PhaseEvidence:
        with watching(dsn, lock_conn, target, "up", budgets or Budgets(), whole=applied is None) as watch:
            watch.stage("preflight")
            if applied is None:
                checks = preflight_task(dsn, lock_conn, target.number, backup_dir)
                app_before = compat_before_task(app_dsn or dsn, dsn)
                watch.stage("backup")
                backup_info = backup_task(dsn, target.number, backup_dir, checks.get("database_size_bytes", 0)) \
                    if backup_dir else None
                watch.stage("apply")
                outcome = apply_task(dsn, lock_conn, target.number, watch.settings(settings), backup_info)
            else:
                backup_info = {"path": applied["backup_path"], "sha256": applied["backup_sha256"],
                               "verified": True} if applied["backup_path"] else None
                outcome = applied_earlier_task(lock_conn, applied)
                app_before = compat_before_task(app_dsn or dsn, dsn)
            watch.run_id = outcome.run_id
            watch.stage("validate")
            counts_before, counted = row_counts_task(lock_conn, target.number, outcome.run_id)
            validation = validate_task(dsn, lock_conn, target.number, outcome.run_id, settings.admin_email,
                                       data_docs, counted)
            app = compat_after_task(dsn, target, app_before, compared=applied is None)
        expected = recorded(lock_conn, target.number, outcome.run_id)
        forecast = gate_section(lock_conn, target, outcome.seconds, expected, settings.rates, settings.backfill,
                                settings.lock_timeout_ms)
        send_artifact(
            create_markdown_artifact,
            f"### Phase {target.number} `{target.name}`\n- status: {outcome.status} in {outcome.seconds:.1f} s"
            + (f" (forecast {expected['forecast_s']:.1f} s)" if expected["forecast_s"] is not None else "") + "\n"
            f"- backup: `{backup_info['path'] if backup_info else 'none (--no-backup)'}`\n"
            f"- validation: {validation.get('passed')}/{validation.get('evaluated')} passed\n"
            + "".join(f"- {n}\n" for n in outcome.notes),
            key=artifact_key(f"phase-{target.number}-summary"),
            description="phase summary",
        )
        return gate.PhaseEvidence(
            run_id=outcome.run_id, status=outcome.status, seconds=outcome.seconds, forecast_s=expected["forecast_s"],
            notes=outcome.notes, backup=backup_info, validation=validation, counts_before=counts_before,
            counted=counted, whole_phase_watched=bool(watch.evidence["monitoring"].get("whole_phase")),
            app_statements=app, sections=[*watch.evidence["sections"], app["section"], forecast])

    with without_heartbeat():
        return phase_flow()


def flat(summary: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-phase rows as a table artifact: without the list of app findings (each phase's own artifact)."""
    return [{k: v for k, v in row.items() if k not in ("app_findings", "app_unchecked")} for row in summary]


def run_acceptance_subflow(dsn: str, load_tenants: int, load_seconds: float) -> list[dict[str, Any]]:
    """The acceptance checklist as a subflow of its own: every line measured, reported as a table."""

    @flow(name="acceptance-checklist")
    def acceptance_flow() -> list[dict[str, Any]]:
        return acceptance_task(dsn, load_tenants, load_seconds)

    with without_heartbeat():
        return acceptance_flow()


def migrate_phases(dsn: str, *, to: int | None, approval: str, approval_timeout_s: int, backup_dir: Path | None,
                   settings: Settings, poll_interval: int, data_docs: bool = True,
                   acceptance_load_tenants: int = LOAD_TENANTS, acceptance_load_seconds: float = LOAD_SECONDS,
                   app_dsn: str | None = None, budgets: Budgets | None = None) -> list[dict[str, Any]]:
    """The body of `migrate`, also run by the staging dry run: pending phases in order, each gated, then the
    acceptance checklist once every phase is applied. `app_dsn`: where the app's statements are read (default
    `dsn`; the dry run's source). Each row's `app_findings`: what the phase does to them (each its kind and its
    line); `app_unchecked`: one line per statement that could not be checked."""
    summary: list[dict[str, Any]] = []
    budgets, said = budgets or Budgets(), set()
    settings = replace(settings, rates=load_rates())
    with migration_lock(dsn) as lock_conn, drawing_plots(), artifacts_sent(), \
            publishing_rates(dsn, settings.rates):

        def gated(target: Phase, applied: dict[str, Any] | None = None) -> dict[str, Any]:
            """One phase's subflow, then its gate: its row of the summary; a no-go rolls it back and stops. The
            count after the phase is the next one's snapshot if that starts soon enough (runner.REUSED_COUNTS_S)."""
            nonlocal settings
            evidence = run_phase_subflow(dsn, lock_conn, target, settings, backup_dir, data_docs, applied, app_dsn,
                                         budgets)
            if (note := evidence.app_statements["note"]) and note not in said:  # once per run, not per phase
                said.add(note)
                get_run_logger().warning("%s", note)
            decision = gate.ask(gate.applied_question(target, evidence), key=f"phase-{target.number}",
                                approval=approval, timeout_s=approval_timeout_s, poll_interval=poll_interval)
            gate.record(lock_conn, target, "up", decision, evidence.run_id)
            settings = replace(settings, counted=evidence.counted)
            summary.append({
                "phase": target.number, "name": target.name, "status": evidence.status,
                "seconds": evidence.seconds, "forecast_s": evidence.forecast_s, "decision": decision.verdict,
                "checks": f"{evidence.validation.get('passed')}/{evidence.validation.get('evaluated')}",
                "backup": str((evidence.backup or {}).get("path", "-")),
                "app_statements": evidence.app_statements["summary"],
                "app_findings": evidence.app_statements["findings"],
                "app_unchecked": evidence.app_statements["unchecked"],
            })
            if not decision.go:
                with watching(dsn, lock_conn, target, "down", budgets) as watch:
                    watch.stage("rollback")
                    rollback_task(dsn, lock_conn, target.number, watch.settings(settings))
                send_artifact(create_table_artifact, flat(summary), key="migration-summary",
                              description="per-phase results")
                raise gate.refused(target, "up", decision)
            return summary[-1]

        ungated = ungated_task(lock_conn, to)

        def check(pending: list[Phase]) -> None:
            """The whole-plan check of the phases to apply, then, before any of them, the phase an earlier run
            applied without a go/no-go, validated and gated again."""
            check_task(lock_conn, pending, settings)
            if ungated:
                gated(*ungated)

        drive(lock_conn, to, check, gated)  # the rows are in `summary`, after the ungated phase's
        send_artifact(create_table_artifact, flat(summary) or [{"phase": "-", "name": "nothing to apply"}],
                      key="migration-summary", description="per-phase results")
        if all_applied_task(lock_conn):
            run_acceptance_subflow(dsn, acceptance_load_tenants, acceptance_load_seconds)
    return summary


@flow(name="migrate")
def migrate(
    database: str = "",
    to: int | None = None,
    approval: Literal["manual", "auto"] = "manual",
    approval_timeout_s: int = gate.DEFAULT_APPROVAL_TIMEOUT_S,
    backups: bool = True,
    backup_dir: str | None = None,
    backfill: Literal["instant", "batched"] | None = None,
    batch_size: int = Settings.batch_size,
    lock_timeout_ms: int = Settings.lock_timeout_ms,
    poll_interval: int = 5,
    data_docs: bool = True,
    acceptance_load_tenants: int = LOAD_TENANTS,
    acceptance_load_seconds: float = LOAD_SECONDS,
    keep_global_unique: list[str] | None = None,
    budgets: Budgets | None = None,
) -> list[dict[str, Any]]:
    """Apply the pending phases up to `to`, each gated, then run the acceptance checklist when all are applied;
    `database` is a DSN (no password), a Prefect Secret block name, or empty for $DATABASE_URL; `backfill` the
    way through phases 2-4 (instant by default; once phase 2 ran, its way). `budgets`: the guard's beside each
    phase (default: tenant_migrate/guard/budgets.py): it cancels a migration statement an app session waited on
    longer than `lock_wait_ms`, pauses batched work while a standby is more than `lag_s` or `lag_mb` behind or while
    the app's statements run more than `app_latency_ms` slower than usual (0: never), and stops the phase
    (resumably) at `ceiling` times a budget or after a pause of `max_pause_s`. `keep_global_unique` (phone_number,
    thread_id): values phase 5 leaves unique across tenants, the app's own unique key on each kept beside the
    per-tenant one (for the app's tables that hold them without a tenant: docs/real-schemas.md).
    `acceptance_load_tenants` and `_seconds`: the acceptance checklist's concurrent load after the last phase (as
    many tenants as the app serves at once). Every parameter is checked before anything runs; approval auto in a
    deployment's run needs its worker's consent (flows/gate.py)."""
    check_migrate_options(to=to, approval=approval, approval_timeout_s=approval_timeout_s, batch_size=batch_size,
                          lock_timeout_ms=lock_timeout_ms, poll_interval=poll_interval,
                          acceptance_load_tenants=acceptance_load_tenants,
                          acceptance_load_seconds=acceptance_load_seconds,
                          keep_global_unique=tuple(keep_global_unique or ()))
    gate.check_approval_mode(approval)
    budgets = budgets or Budgets()
    dsn = resolve_database(database)
    get_run_logger().info("migrating %s (approval %s; guard budgets: %s)", describe(dsn), approval, budgets.describe())
    return migrate_phases(dsn, to=to, approval=approval, approval_timeout_s=approval_timeout_s,
                          backup_dir=backup_folder(backups, backup_dir),
                          settings=Settings(batch_size=batch_size, lock_timeout_ms=lock_timeout_ms,
                                            backfill=backfill, keep_global_unique=tuple(keep_global_unique or ())),
                          poll_interval=poll_interval, data_docs=data_docs,
                          acceptance_load_tenants=acceptance_load_tenants,
                          acceptance_load_seconds=acceptance_load_seconds, budgets=budgets)
