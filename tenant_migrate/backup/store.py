"""The backup folder: where backups live, their manifests and sidecars, listing and pruning."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tenant_migrate.errors import BackupError, MigrationError, first_line
from tenant_migrate.paths import PROJECT_ROOT
from tenant_migrate.private import write_private

log = logging.getLogger("tenant_migrate.backup")

DEFAULT_BACKUP_DIR = PROJECT_ROOT / "backups"
MANIFEST = "manifest.json"
VERIFIED = "verified.json"
RESTORES = "restores.jsonl"
CUSTOM_FILE = "dump.pgdump"
DIRECTORY_DUMP = "dump"
BACKUP_DIR_ENV = "TENANT_MIGRATE_BACKUP_DIR"
MANIFEST_FORMAT = 1
# <UTC timestamp>-<database>-<label>[-<n>]; a dump in progress (or killed) is in .<that name>.partial
NAME = re.compile(r"\d{8}T\d{6}Z-[A-Za-z0-9_.-]+")
PARTIAL = re.compile(rf"\.({NAME.pattern})\.partial")


def backup_root(backup_dir: str | Path | None = None) -> Path:
    """--backup-dir, else $TENANT_MIGRATE_BACKUP_DIR, else <project>/backups."""
    return Path(backup_dir or os.environ.get(BACKUP_DIR_ENV) or DEFAULT_BACKUP_DIR).expanduser().resolve()


def existing_ancestor(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def dump_files(folder: Path) -> list[Path]:
    """The archive's files (relative), sorted; the manifest and sidecars are not part of it."""
    if (folder / CUSTOM_FILE).is_file():
        return [Path(CUSTOM_FILE)]
    return sorted(p.relative_to(folder) for p in (folder / DIRECTORY_DUMP).rglob("*") if p.is_file())


def archive(folder: Path) -> Path:
    return folder / CUSTOM_FILE if (folder / CUSTOM_FILE).is_file() else folder / DIRECTORY_DUMP


def size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def resolve(backup_ref: str | Path, backup_dir: str | Path | None = None) -> Path:
    """A backup folder from a path, or from a name inside the backup folder."""
    path = Path(backup_ref).expanduser()
    if not path.exists():
        path = backup_root(backup_dir) / str(backup_ref)
    if not (path / MANIFEST).is_file():
        raise BackupError(f"{backup_ref} is not a backup (no {MANIFEST} in {path}): "
                             "see `tenant-migrate backups` for the list")
    return path.resolve()


def read_manifest(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        return json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"backup {path.name} has an unreadable {MANIFEST}: {first_line(exc)}") from None


def read_sidecar(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / VERIFIED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record(path: Path, **fields: Any) -> dict[str, Any]:
    state = {**read_sidecar(path), **fields}
    tmp = path / f".{VERIFIED}.tmp"
    write_private(tmp, json.dumps(state, indent=2, default=str) + "\n")
    tmp.replace(path / VERIFIED)
    return state


def is_backup(folder: Path) -> bool:
    """A finished backup of this tool: a real folder named as backup() names them, whose manifest is of our
    format and names that folder. Anything else in the backup folder is never listed nor deleted."""
    if folder.is_symlink() or not folder.is_dir() or not NAME.fullmatch(folder.name):
        return False
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (isinstance(manifest, dict) and manifest.get("format_version") == MANIFEST_FORMAT
            and manifest.get("name") == folder.name and isinstance(manifest.get("files"), dict))


def is_partial(folder: Path) -> bool:
    """A dump of this tool that has not finished (still running, or killed): `.<name>.partial` holding nothing
    but what backup() writes."""
    if folder.is_symlink() or not folder.is_dir() or not PARTIAL.fullmatch(folder.name):
        return False
    return {p.name for p in folder.iterdir()} <= {CUSTOM_FILE, DIRECTORY_DUMP, MANIFEST}


@contextlib.contextmanager
def dumping(folder: Path) -> Iterator[None]:
    """Mark a partial folder as in use while its dump runs (an flock the kernel drops if the process dies)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def in_use(folder: Path) -> bool:
    """Whether a running dump holds this partial folder (one renamed meanwhile, its dump done, counts as held)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except FileNotFoundError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def list_partials(backup_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Unfinished dumps in the folder, oldest first: a dump running now, or one whose process was killed."""
    root = backup_root(backup_dir)
    if not root.is_dir():
        return []
    found = [{"name": f.name, "path": str(f), "size_bytes": size(f), "in_use": in_use(f),
              "started_at": datetime.fromtimestamp(f.stat().st_mtime, UTC).isoformat(timespec="seconds")}
             for f in root.iterdir() if is_partial(f)]
    return sorted(found, key=lambda p: p["name"][1:])


def list_backups(backup_dir: str | Path | None = None) -> list[dict[str, Any]]:
    """Finished backups in the folder, oldest first, with their verification state."""
    root = backup_root(backup_dir)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        if not is_backup(folder):
            continue
        manifest = read_manifest(folder)
        sidecar = read_sidecar(folder)
        found.append({"name": folder.name, "path": str(folder), "phase": manifest.get("phase"),
                      "label": manifest.get("label"), "database": manifest.get("database"),
                      "format": manifest.get("format"), "started_at": manifest.get("started_at"),
                      "finished_at": manifest.get("finished_at"), "size_bytes": manifest.get("size_bytes"),
                      "sha256": manifest.get("sha256"), "row_counts": manifest.get("row_counts"),
                      "verified_at": sidecar.get("verified_at"),
                      "restore_verified_at": sidecar.get("restore_verified_at")})
    return sorted(found, key=lambda b: (b["started_at"] or "", b["name"]))


def remove(path: str | Path) -> None:
    """Delete one backup of this tool (a transient one: the dry run's copy)."""
    path = Path(path)
    if not is_backup(path):
        raise MigrationError(f"refusing to delete {path}: it is not a backup of this tool")
    shutil.rmtree(path)
    log.info("deleted backup %s", path.name)


def _prunable_root(backup_dir: str | Path | None) -> Path:
    root = backup_root(backup_dir)
    if root in (Path("/"), Path.home().resolve()):
        raise MigrationError(f"refusing to prune {root}: it is not a backup folder; give --backup-dir the folder "
                             "that holds the backups")
    return root


def prune(backup_dir: str | Path | None = None, keep: int = 5, *, dry_run: bool = False) -> list[str]:
    """Delete old backups, keeping the newest `keep` of each database and, whatever its age, the
    newest verified one of each database; and the folders of killed dumps (`.partial`, not in use).
    Only this tool's backup folders are ever touched (is_backup, is_partial). Returns the names deleted
    (with dry_run: the names that would be, deleting nothing)."""
    if keep < 0:
        raise MigrationError(f"keep must be 0 or more, got {keep}")
    root = _prunable_root(backup_dir)
    by_db: dict[str, list[dict[str, Any]]] = {}
    for b in list_backups(root):
        by_db.setdefault(b["database"] or "", []).append(b)
    doomed = [p for p in list_partials(root) if not p["in_use"]]
    for backups in by_db.values():
        kept = {b["name"] for b in backups[len(backups) - keep:]} if keep else set()
        verified = [b for b in backups if b["verified_at"]]
        if verified:
            kept.add(verified[-1]["name"])
        doomed += [b for b in backups if b["name"] not in kept]
    if not dry_run:
        for b in doomed:
            shutil.rmtree(b["path"])
            log.info("pruned backup %s", b["name"])
    return [b["name"] for b in doomed]
