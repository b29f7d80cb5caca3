"""Taking a backup: the preflight that proves it can succeed, pg_dump in the migration's snapshot, the
manifest, and the verification of the archive (sha256 of every file, pg_restore --list)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenant_migrate import faults
from tenant_migrate.backup.store import (
    CUSTOM_FILE,
    DIRECTORY_DUMP,
    MANIFEST,
    MANIFEST_FORMAT,
    archive,
    backup_root,
    dump_files,
    dumping,
    existing_ancestor,
    human,
    now,
    read_manifest,
    record,
    resolve,
    sha256_of,
    size,
)
from tenant_migrate.backup.tools import find_pg_dump, pg_restore_for, server_major, sibling, tool_error, version_text
from tenant_migrate.db import (
    LEGACY_TABLES,
    TOOL_APPLICATION_NAME,
    cluster_id,
    connection,
    one,
    row_counts,
    scalar,
    table_rows,
)
from tenant_migrate.dsn import database_name, describe, tool_env
from tenant_migrate.errors import BackupDamaged, BackupError, MigrationError
from tenant_migrate.paths import read_sql
from tenant_migrate.private import check_not_shared, make_private, private_dir, write_private

log = logging.getLogger("tenant_migrate.backup")

# A custom-format dump is compressed and holds no index data, so it is far smaller than
# pg_database_size; the factor keeps a margin for the database growing while the dump runs.
SPACE_FACTOR = 1.2
PROGRESS_INTERVAL_S = 5.0
LOCK_WAIT_TIMEOUT = "60s"
FAKE_FREE_BYTES_ENV = "TENANT_MIGRATE_FAKE_FREE_BYTES"


def _check_writable(folder: Path) -> None:
    """The folder exists and takes a file, or can be created; no other user can write to it; leaves nothing
    behind."""
    base = existing_ancestor(folder)
    if not base.is_dir():
        raise BackupError(f"backup folder {folder} cannot be created: {base} is not a directory; "
                             "choose another --backup-dir")
    if base == folder:
        check_not_shared(folder, "--backup-dir")
    try:
        fd, probe = tempfile.mkstemp(prefix=".tenant-migrate-probe-", dir=base)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        what = "is not writable" if base == folder else f"cannot be created ({base} is not writable)"
        raise BackupError(f"backup folder {folder} {what}: {exc.strerror or exc}; "
                             "fix its permissions or choose another --backup-dir") from None


def _free_bytes(folder: Path, free_bytes: int | None) -> int:
    if free_bytes is not None:
        return free_bytes
    if fake := os.environ.get(FAKE_FREE_BYTES_ENV):
        return int(fake)
    return shutil.disk_usage(existing_ancestor(folder)).free


def _database_info(conn: psycopg.Connection) -> dict[str, Any]:
    return dict(one(conn.cursor(row_factory=dict_row), read_sql("backup/database_info.sql")))



def ensure_backup_possible(dsn: str, backup_dir: str | Path | None = None, *,
                           pg_dump_candidates: list[str] | None = None,
                           free_bytes: int | None = None) -> dict[str, Any]:
    """Check, before anything is written, that a backup of `dsn` into `backup_dir` can succeed.

    pg_dump found and not older than the server (pg_dump refuses newer servers); pg_restore beside
    it; the folder exists and is writable or can be created; free space (`free_bytes`, else
    $TENANT_MIGRATE_FAKE_FREE_BYTES, else shutil.disk_usage) at least pg_database_size x SPACE_FACTOR.
    Each failure is a one-line MigrationError saying what is wrong and what to do.
    """
    folder = backup_root(backup_dir)
    tool = find_pg_dump(pg_dump_candidates)
    with connection(dsn) as conn:
        info = _database_info(conn)
    server = server_major(info["server_version_num"])
    if tool["version_num"] < server:
        raise BackupError(
            f"{tool['path']} is version {version_text(tool['version_num'])}, older than the server "
            f"({info['server_version']}) of {describe(dsn)}: install pg_dump {version_text(server)} "
            "or newer, or set PG_DUMP to it")
    pg_restore = sibling(tool["path"], "pg_restore")
    if info["row_security"] == "restricted":
        raise BackupError(
            f"row-level security hides rows of {describe(dsn)} from this role, so its backup would miss them: "
            "back up as a superuser, a BYPASSRLS role or a member of tenant_owner")
    _check_writable(folder)
    needed = int(info["size_bytes"] * SPACE_FACTOR)
    free = _free_bytes(folder, free_bytes)
    if free < needed:
        raise BackupError(
            f"not enough disk for the backup in {folder}: {human(free)} free, {human(needed)} needed "
            f"(database size {human(info['size_bytes'])} x {SPACE_FACTOR}); free some space or choose "
            "another --backup-dir")
    result = {"database": describe(dsn), "backup_dir": str(folder), "pg_dump": tool["path"],
              "pg_dump_version": tool["version"], "pg_restore": pg_restore,
              "server_version": info["server_version"], "database_size_bytes": info["size_bytes"],
              "needed_bytes": needed, "free_bytes": free, "row_security": info["row_security"]}
    log.info("backup preflight ok for %s: %s, %s free of %s needed", result["database"], tool["version"],
             human(free), human(needed))
    return result



def _combined_sha256(files: dict[str, dict[str, Any]]) -> str:
    """One digest for the whole archive (the ledger's backup_sha256): the file's own sha256 for a
    custom-format dump, else the sha256 of the sorted 'sha256  path' lines."""
    if list(files) == [CUSTOM_FILE]:
        return files[CUSTOM_FILE]["sha256"]
    lines = "".join(f"{v['sha256']}  {k}\n" for k, v in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "db"


@contextlib.contextmanager
def _snapshot(dsn: str) -> Iterator[tuple[str, dict[str, int], list[dict[str, Any]], dict[str, Any],
                                          Callable[[], dict[str, int]]]]:
    """A repeatable-read transaction held open while pg_dump runs: its exported snapshot id, and the
    row counts, ledger state and database facts seen in that same snapshot; and a function that counts the
    rows of every table the dump holds, in that snapshot too (called once pg_dump has them: a table another
    session locks must make pg_dump wait, under its own timeout, not this count). Its locks wait at most
    LOCK_WAIT_TIMEOUT, as pg_dump's."""
    with connection(dsn, autocommit=False) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        conn.execute("SELECT set_config('lock_timeout', %s, true)", (LOCK_WAIT_TIMEOUT,))
        snapshot = scalar(conn, "SELECT pg_export_snapshot()")
        info = _database_info(conn)
        info["system_identifier"] = cluster_id(conn)
        counts = row_counts(conn, LEGACY_TABLES)
        ledger = [r[0] for r in conn.execute(read_sql("backup/ledger_state.sql"))] if info["has_ledger"] else []
        try:
            yield snapshot, counts, ledger, info, lambda: table_rows(conn)
        finally:
            conn.rollback()


def _run_with_progress(args: list[str], env: dict[str, str], watch: Path, progress: Callable[[int], None] | None,
                       interval: float, what: str) -> subprocess.CompletedProcess:
    """Run a tool; every `interval` seconds log (and report) the bytes written under `watch`."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                umask=0o077)
        started = time.monotonic()
        while True:
            try:
                proc.wait(timeout=interval)
                break
            except subprocess.TimeoutExpired:
                written = size(watch)
                log.info("%s: %s written after %.0f s", what, human(written), time.monotonic() - started)
                if progress:
                    progress(written)
        err.seek(0)
        return subprocess.CompletedProcess(args, proc.returncode, "", err.read().decode(errors="replace"))


def _free_name(root: Path, db: str, label: str) -> str:
    """`<UTC timestamp>-<db>-<label>`, with -2, -3, ... when a backup (or a running dump) has that name."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name, suffix = f"{stamp}-{_slug(db)}-{label}", 1
    while (root / name).exists() or (root / f".{name}.partial").exists():
        suffix += 1
        name = f"{stamp}-{_slug(db)}-{label}-{suffix}"
    return name


def _dump(dsn: str, checks: dict[str, Any], folder: Path, jobs: int, label: str,
          progress: Callable[[int], None] | None, progress_interval: float) -> tuple[dict, list, dict]:
    """pg_dump into `folder` in a snapshot held open meanwhile; the row counts, ledger state and database facts
    seen in that same snapshot."""
    conninfo, env = tool_env(dsn, TOOL_APPLICATION_NAME)
    with _snapshot(dsn) as (snapshot, counts, ledger, info, count_tables):
        target = folder / (CUSTOM_FILE if jobs == 1 else DIRECTORY_DUMP)
        fmt = ["-Fc"] if jobs == 1 else ["-Fd", "-j", str(jobs)]
        args = [checks["pg_dump"], *fmt, "--no-password", f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}",
                f"--snapshot={snapshot}", f"--file={target}", f"--dbname={conninfo}"]
        if checks["row_security"] == "owner_policy":  # the tenant_owner policy shows this role every row
            args.append("--enable-row-security")
        faults.checkpoint(f"backup:{label}:start")
        result = _run_with_progress(args, env, target, progress, progress_interval, f"pg_dump {database_name(dsn)}")
        if result.returncode != 0:
            raise BackupError(f"pg_dump of {describe(dsn)} failed: {tool_error('pg_dump', result.stderr, dsn)}")
        faults.checkpoint(f"backup:{label}:dumped")
        info["table_rows"] = count_tables()
    return counts, ledger, info


def _manifest(dsn: str, name: str, phase: int | None, label: str, jobs: int, checks: dict[str, Any],
              info: dict[str, Any], files: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What manifest.json says of a backup (its timings, row counts and ledger state are added by backup())."""
    return {
        "format_version": MANIFEST_FORMAT,
        "name": name,
        "phase": phase,
        "label": label,
        "database": describe(dsn),
        "dbname": database_name(dsn),
        "system_identifier": info["system_identifier"],
        "server_version": info["server_version"],
        "server_version_num": info["server_version_num"],
        "encoding": info["encoding"],
        "lc_collate": info["lc_collate"],
        "lc_ctype": info["lc_ctype"],
        "database_size_bytes": info["size_bytes"],
        "pg_dump": checks["pg_dump"],
        "pg_dump_version": checks["pg_dump_version"],
        "format": "custom" if jobs == 1 else "directory",
        "jobs": jobs,
        "archive": CUSTOM_FILE if jobs == 1 else DIRECTORY_DUMP,
    }


def backup(dsn: str, *, phase: int | None, backup_dir: str | Path | None = None, jobs: int = 1,
           label: str | None = None, verify_after: bool = True, progress: Callable[[int], None] | None = None,
           progress_interval: float = PROGRESS_INTERVAL_S, pg_dump_candidates: list[str] | None = None,
           free_bytes: int | None = None) -> dict[str, Any]:
    """Back up the whole database `dsn` and return the manifest (plus `path`).

    pg_dump custom format (-Fc) with jobs == 1, directory format with -j jobs otherwise, into
    `<backup_dir>/<UTC timestamp>-<db>-<label>/` (label default `phase<N>`, or `manual`). Runs
    ensure_backup_possible() first; nothing is written if it fails, and a failed dump leaves nothing behind.
    With verify_after (default) the new backup is verified (checksums + pg_restore --list).
    """
    if jobs < 1:
        raise MigrationError(f"--jobs must be at least 1, got {jobs}")
    checks = ensure_backup_possible(dsn, backup_dir, pg_dump_candidates=pg_dump_candidates, free_bytes=free_bytes)
    root = Path(checks["backup_dir"])
    label = _slug(label or (f"phase{phase}" if phase is not None else "manual"))
    name = _free_name(root, database_name(dsn), label)
    final, partial = root / name, root / f".{name}.partial"
    started = now()
    t0 = time.perf_counter()
    private_dir(root)
    partial.mkdir(mode=0o700)
    try:
        with dumping(partial):  # from now on, prune-backups leaves this folder alone
            make_private(partial)
            log.info("backing up %s (phase %s) to %s: pg_dump %s", describe(dsn), phase, final,
                     "-Fc" if jobs == 1 else f"-Fd -j {jobs}")
            counts, ledger, info = _dump(dsn, checks, partial, jobs, label, progress, progress_interval)
            make_private(partial)
            files: dict[str, dict[str, Any]] = {
                str(rel): {"sha256": sha256_of(partial / rel), "bytes": (partial / rel).stat().st_size}
                for rel in dump_files(partial)}
            manifest = {**_manifest(dsn, name, phase, label, jobs, checks, info, files),
                        "started_at": started, "finished_at": now(), "seconds": round(time.perf_counter() - t0, 3),
                        "size_bytes": sum(f["bytes"] for f in files.values()), "sha256": _combined_sha256(files),
                        "files": files, "row_counts": counts, "table_rows": info["table_rows"], "ledger": ledger}
            write_private(partial / MANIFEST, json.dumps(manifest, indent=2, default=str) + "\n")
            partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if progress:
        progress(manifest["size_bytes"])
    log.info("backup of %s done: %s, %s in %.1f s, sha256 %s", describe(dsn), final, human(manifest["size_bytes"]),
             manifest["seconds"], manifest["sha256"][:16])
    if verify_after:
        manifest["verification"] = verify(final)
    return {**manifest, "path": str(final)}



def verify(path: str | Path) -> dict[str, Any]:
    """Check a backup: the sha256 and size of every file match the manifest, no file is missing or
    extra, and `pg_restore --list` reads the archive. Records `verified_at` in verified.json."""
    path = resolve(path)
    manifest = read_manifest(path)
    expected = manifest.get("files") or {}
    actual = {str(p) for p in dump_files(path)}
    for rel in sorted(set(expected) - actual):
        record(path, verified_at=None, last_check_failed=now())
        raise BackupDamaged(f"backup {path.name} is incomplete: {rel} is missing", file=rel)
    for rel in sorted(actual - set(expected)):
        record(path, verified_at=None, last_check_failed=now())
        raise BackupDamaged(f"backup {path.name} is corrupt: {rel} is not in its manifest", file=rel)
    for rel, facts in sorted(expected.items()):
        if sha256_of(path / rel) != facts["sha256"]:
            record(path, verified_at=None, last_check_failed=now())
            raise BackupDamaged(f"backup {path.name} is corrupt: sha256 of {Path(rel).name} does not match its "
                                "manifest", file=rel)
    listing = subprocess.run([pg_restore_for(manifest), "--list", str(archive(path))],
                             capture_output=True, text=True)
    if listing.returncode != 0:
        record(path, verified_at=None, last_check_failed=now())
        raise BackupDamaged(f"backup {path.name} is unreadable: pg_restore --list says "
                            f"{tool_error('pg_restore', listing.stderr, '')}", file=archive(path).name)
    entries = sum(1 for ln in listing.stdout.splitlines() if ln and not ln.startswith(";"))
    state = record(path, verified_at=now(), toc_entries=entries, sha256=manifest.get("sha256"))
    log.info("backup %s verified: %d files match their sha256, %d archive entries", path.name, len(expected),
             entries)
    return {"path": str(path), "files": len(expected), **state}
