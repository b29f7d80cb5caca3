"""Commands that run a Prefect flow in this process: migrate, rollback, dry-run."""

from __future__ import annotations

import logging
import urllib.request
from typing import Annotated, Any

import typer

from tenant_migrate.cli.common import (
    BackfillOption,
    DsnOption,
    JsonOption,
    KeepGlobalUniqueOption,
    emit,
    fail_cleanly,
    target_dsn,
    with_budget_options,
)
from tenant_migrate.dsn import describe, password_to_environment
from tenant_migrate.errors import MigrationError
from tenant_migrate.guard import Budgets
from tenant_migrate.options import check_migrate_options, check_rollback_options
from tenant_migrate.steps import Settings

BatchOption = Annotated[int, typer.Option(help="Rows per backfill transaction (phase 4), 1 to 100,000.")]
LockTimeoutOption = Annotated[
    int,
    typer.Option(
        help="lock_timeout of every DDL statement, in ms (at least 10); a statement that times out is retried with "
        "backoff."
    ),
]
ApprovalOption = Annotated[
    str,
    typer.Option(
        "--approval",
        help="manual: each phase waits for go/no-go in the Prefect UI (needs a Prefect server, "
        "PREFECT_API_URL); auto: approve automatically (rehearsals, the demo).",
        case_sensitive=False,
    ),
]
BackupDirOption = Annotated[
    str | None,
    typer.Option(
        "--backup-dir", help="Backup folder (default: $TENANT_MIGRATE_BACKUP_DIR, else ./backups).", show_default=False
    ),
]
def require_prefect_server(approval: str) -> None:
    """Manual approval needs a Prefect server whose UI the operator can open; say so before anything runs."""
    if approval == "manual":
        from prefect.settings import PREFECT_API_URL

        url = PREFECT_API_URL.value()
        if not url:
            raise MigrationError(
                "--approval manual needs a Prefect server to approve in: run `make ui` (or "
                "`prefect server start`) and export PREFECT_API_URL=http://127.0.0.1:4200/api"
            )
        try:
            urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=5).close()  # noqa: S310 - the operator's own URL
        except OSError as exc:
            raise MigrationError(f"no Prefect server answers at {url} ({exc}): start it with `make ui`") from None


def _without_operator_tracebacks(record: logging.LogRecord) -> bool:
    """Prefect logs a failed run's exception with its traceback. A MigrationError is a message for the
    operator (the command's last line says it), not a bug: the console shows its line, not the traceback;
    the Prefect API has already received the full record."""
    if record.exc_info and isinstance(record.exc_info[1], MigrationError):
        record.exc_info, record.exc_text = None, None
    return True


# Said when a run failed without PREFECT_API_URL: the one time an operator would want the run in the Prefect UI.
TEMPORARY_SERVER = ("note: this run's logs and artifacts were kept by a temporary Prefect server that stops with this "
                    "command; to keep a run's for the Prefect UI, start one (`make ui`) and export "
                    "PREFECT_API_URL=http://127.0.0.1:4200/api")


def run_flow(flow_fn: Any, **params: Any) -> Any:
    """Run a flow in this process and return its result, or raise its failure: the flow's own exception object
    (Prefect raises what the flow raised, even where the run's state says otherwise: a gate whose pause timed out
    is "never resumed" there), a MigrationError as it is, any other as one line."""
    for handler in logging.getLogger().handlers:  # Prefect's console handler sits on the root logger
        handler.addFilter(_without_operator_tracebacks)
    try:
        return flow_fn(**params)
    except Exception as exc:
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():  # Prefect's own notice of its temporary server is filtered out (cli/)
            typer.echo(TEMPORARY_SERVER, err=True)
        if isinstance(exc, MigrationError):
            raise
        raise MigrationError(f"{type(exc).__name__}: {exc}") from exc


def flow_table(rows: list[dict[str, Any]]) -> str:
    header = f"  {'phase':<33} {'status':<12} {'seconds':>8}  {'decision':<9} {'checks':<7} backup"
    lines = [
        f"  {r['phase']} {r['name']:<31} {r['status']:<12} {r['seconds']:>8.1f}  {r['decision']:<9} "
        f"{r['checks']:<7} {r['backup']}"
        for r in rows
    ]
    return "\n".join([header, *lines]) if rows else "  nothing to apply: every phase is applied"


def migrate_command(
    dsn: DsnOption = None,
    to: Annotated[int | None, typer.Option(help="Stop after this phase (default: the last).")] = None,
    approval: ApprovalOption = "manual",
    approval_timeout: Annotated[int | None, typer.Option(
        "--approval-timeout", show_default=False,
        help="Seconds each gate waits for go/no-go (default 24 h); no answer = no-go: the phase is rolled back.",
    )] = None,
    no_backup: Annotated[bool, typer.Option("--no-backup", help="Skip the backups (rehearsals only).")] = False,
    backup_dir: BackupDirOption = None,
    no_docs: Annotated[bool, typer.Option("--no-docs", help="Skip the Data Docs HTML (about 5 s a phase).")] = False,
    backfill: BackfillOption = None,
    batch_size: BatchOption = Settings.batch_size,
    lock_timeout_ms: LockTimeoutOption = Settings.lock_timeout_ms,
    keep_global_unique: KeepGlobalUniqueOption = None,
    as_json: JsonOption = False,
    *,
    budgets: Budgets,
) -> None:
    """Run the migrate flow: each pending phase backed up, applied, validated, then gated; the guard watches each
    phase and bounds what it does to the app and its replicas."""
    check_migrate_options(to=to, approval=approval, approval_timeout_s=approval_timeout, batch_size=batch_size,
                          lock_timeout_ms=lock_timeout_ms, keep_global_unique=tuple(keep_global_unique or ()))
    require_prefect_server(approval)
    target = password_to_environment(target_dsn(dsn))
    from tenant_migrate.flows.migrate import migrate

    rows = run_flow(
        migrate,
        database=target,
        to=to,
        approval=approval,
        backups=not no_backup,
        backup_dir=backup_dir,
        data_docs=not no_docs,
        backfill=backfill,
        batch_size=batch_size,
        lock_timeout_ms=lock_timeout_ms,
        keep_global_unique=keep_global_unique or [],
        budgets=budgets,
        **({"approval_timeout_s": approval_timeout} if approval_timeout is not None else {}),
    )
    emit(rows, as_json, f"migrated {describe(target)}:\n{flow_table(rows)}")


def rollback_command(
    to: Annotated[int, typer.Option(help="Roll back every phase above this one (0 = the legacy schema).")],
    dsn: DsnOption = None,
    approval: ApprovalOption = "manual",
    no_backup: Annotated[bool, typer.Option("--no-backup", help="Skip the backups before each step.")] = False,
    backup_dir: BackupDirOption = None,
    approval_timeout: Annotated[int | None, typer.Option(
        "--approval-timeout", show_default=False,
        help="Seconds each gate waits for go/no-go (default 24 h); no answer = no-go: that phase stays applied.",
    )] = None,
    as_json: JsonOption = False,
    *,
    budgets: Budgets,
) -> None:
    """Run the rollback flow: phases newest first down to --to, each backed up, reverted by its down script."""
    check_rollback_options(to=to, approval=approval, approval_timeout_s=approval_timeout)
    require_prefect_server(approval)
    target = password_to_environment(target_dsn(dsn))
    from tenant_migrate.flows.rollback import rollback

    rows = run_flow(rollback, database=target, to=to, approval=approval, backups=not no_backup, backup_dir=backup_dir,
                    budgets=budgets,
                    **({"approval_timeout_s": approval_timeout} if approval_timeout is not None else {}))
    lines = [f"  {r['phase']} {r['name']:<31} {r['status']:<12} {r['seconds']:>8.1f} s" for r in rows]
    emit(rows, as_json, f"rolled back {describe(target)}:\n" + ("\n".join(lines) or "  nothing to roll back"))


def dry_run_command(
    dsn: DsnOption = None,
    staging: Annotated[str | None, typer.Option(
        "--staging", show_default=False,
        help="A database of the staging server to create the copy on: a DSN (no password: ~/.pgpass) or a Prefect "
             "Secret block name. Default: the source's own server, which needs --allow-same-cluster.")] = None,
    allow_same_cluster: Annotated[bool, typer.Option(
        "--allow-same-cluster", help="Allow the copy on the source's own server (doubles its disk and load).")] = False,
    backup_dir: BackupDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rehearse on a staging copy: copy, migrate with auto approval, roll back, compare, drop the copy."""
    target = password_to_environment(target_dsn(dsn))
    from tenant_migrate.flows.staging_dry_run import staging_dry_run

    report = run_flow(staging_dry_run, database=target, staging=staging or "", allow_same_cluster=allow_same_cluster,
                      backup_dir=backup_dir)
    emit(
        report,
        as_json,
        f"dry run of {report['source']} on copy {report['copy']}:\n{flow_table(report['phases'])}\n"
        f"  rollback of every phase: {report['rollback_seconds']} s; schema restored: {report['schema_restored']}; "
        f"rows restored: {report['row_counts_restored']}\n"
        + "\n".join(f"  app statements: {line}" for line in report["app_statements"]),
    )


def register(app: typer.Typer) -> None:
    app.command("migrate")(fail_cleanly(with_budget_options()(migrate_command)))
    app.command("rollback")(fail_cleanly(with_budget_options()(rollback_command)))
    app.command("dry-run")(fail_cleanly(dry_run_command))
