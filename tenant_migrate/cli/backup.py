"""Commands for backups: backup, backups, verify, restore, prune-backups."""

from __future__ import annotations

from typing import Annotated

import typer

from tenant_migrate.backup import dump, restore, store
from tenant_migrate.cli.common import DsnOption, JsonOption, emit, fail_cleanly, show_logs, target_dsn
from tenant_migrate.db import LEGACY_TABLES
from tenant_migrate.dsn import describe

BackupDirOption = Annotated[
    str | None,
    typer.Option("--backup-dir", help="Folder of the backups (default: $TENANT_MIGRATE_BACKUP_DIR, "
                 "else <project>/backups).", show_default=False),
]
BackupArgument = Annotated[str, typer.Argument(help="Backup folder: a path, or a name from `tenant-migrate backups`.")]


def _mb(n: int | None) -> str:
    return f"{(n or 0) / 1048576:,.1f} MB"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{t} {n:,}" for t, n in counts.items())


def backup_command(
    dsn: DsnOption = None,
    backup_dir: BackupDirOption = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="pg_dump jobs: 1 = one custom-format file, "
                                      "more = directory format dumped in parallel.")] = 1,
    phase: Annotated[int | None, typer.Option(help="Phase this backup precedes (default: a manual backup).",
                                              show_default=False)] = None,
    label: Annotated[str | None, typer.Option(help="Name suffix (default phase<N> or manual).",
                                              show_default=False)] = None,
    verify_restore: Annotated[bool, typer.Option("--verify-restore", help="Also restore it into a scratch "
                                                 "database and compare row counts (then drop it).")] = False,
    as_json: JsonOption = False,
) -> None:
    """Back up the database (pg_dump), write its manifest, and verify it."""
    if not as_json:
        show_logs()
    target = target_dsn(dsn)
    manifest = dump.backup(target, phase=phase, backup_dir=backup_dir, jobs=jobs, label=label)
    if verify_restore:
        manifest["verification"] = restore.verify_restore(target, manifest["path"], jobs=jobs)
    checked = "verified (sha256 + pg_restore --list" + (", test restore)" if verify_restore else ")")
    emit(manifest, as_json,
         f"backup of {describe(target)}: {manifest['path']}\n"
         f"  {manifest['format']} format, {_mb(manifest['size_bytes'])} in {manifest['seconds']} s, {checked}\n"
         f"  sha256 {manifest['sha256']}\n  rows: {_counts(manifest['row_counts'])}")


def backups_command(backup_dir: BackupDirOption = None, as_json: JsonOption = False) -> None:
    """List the backups, oldest first, with their verification state."""
    found, partials = store.list_backups(backup_dir), store.list_partials(backup_dir)
    lines = [f"backups in {store.backup_root(backup_dir)}:"]
    for b in found:
        state = ("restore-verified" if b["restore_verified_at"] else
                 "verified" if b["verified_at"] else "NOT verified")
        rows = sum((b["row_counts"] or {}).values())
        lines.append(f"  {b['name']:<52} {b['database']:<40} {_mb(b['size_bytes']):>12} {rows:>12,} rows  {state}")
    for p in partials:
        state = "dump running now" if p["in_use"] else "dump killed before it finished: prune-backups removes it"
        lines.append(f"  {p['name']:<52} {'started ' + p['started_at']:<40} {_mb(p['size_bytes']):>12}  {state}")
    if not found and not partials:
        lines.append("  none")
    emit(found + partials, as_json, "\n".join(lines))


def verify_command(
    backup: BackupArgument,
    backup_dir: BackupDirOption = None,
    restore_into_scratch: Annotated[bool, typer.Option(
        "--restore", help="Also restore it into a scratch database on --dsn's server and compare row counts.")
    ] = False,
    dsn: DsnOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a backup: every file's sha256 matches its manifest and pg_restore can read it."""
    path = store.resolve(backup, backup_dir)
    result = dump.verify(path)
    if restore_into_scratch:
        result = restore.verify_restore(target_dsn(dsn), path)
    emit(result, as_json, f"backup {path.name} verified: {result.get('files', '')} files match their sha256"
         + (", restores with the manifest's row counts" if restore_into_scratch else ", pg_restore reads it"))


def restore_command(
    backup: BackupArgument,
    dsn: DsnOption = None,
    backup_dir: BackupDirOption = None,
    new_database: Annotated[str | None, typer.Option("--new-database", help="Restore into this new database "
                                                     "on the same server instead of in place.",
                                                     show_default=False)] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Really do it (without: report what would be lost).")] = False,
    confirm_target: Annotated[str | None, typer.Option(
        "--confirm-target", show_default=False,
        help="Restore in place although the backup was taken of another database or cluster: name the "
             "database it replaces.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Emergency rollback: put the database back as it was at the backup (in place, or into a new one).
    In place only into the database and cluster it was taken of, and never while a migration runs."""
    if not as_json:
        show_logs()
    result = restore.restore(backup, target_dsn(dsn), yes=yes, new_database=new_database,
                             backup_dir=backup_dir, confirm_target=confirm_target)
    emit(result, as_json, f"restored {result['backup']} into {result['database']} in {result['seconds']} s "
         f"({result['rows_lost']:,} rows written since the backup dropped)\n"
         f"  rows: {_counts({t: result['row_counts'].get(t, 0) for t in LEGACY_TABLES})}")


def prune_command(
    keep: Annotated[int, typer.Option(min=0, help="Backups to keep per database (the newest verified one "
                                      "is always kept).")] = 5,
    backup_dir: BackupDirOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list what would be deleted.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Delete old backups, keeping the newest N per database and the newest verified one, and the folders of
    killed dumps. Only this tool's backup folders are ever deleted."""
    deleted = store.prune(backup_dir, keep, dry_run=dry_run)
    emit(deleted, as_json, "\n".join([f"{'would delete' if dry_run else 'deleted'} {len(deleted)} backups",
                                      *(f"  {n}" for n in deleted)]))


def register(app: typer.Typer) -> None:
    app.command("backup")(fail_cleanly(backup_command))
    app.command("backups")(fail_cleanly(backups_command))
    app.command("verify")(fail_cleanly(verify_command))
    app.command("restore")(fail_cleanly(restore_command))
    app.command("prune-backups")(fail_cleanly(prune_command))
