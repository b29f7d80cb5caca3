"""The backup folder: where backups live, their manifests and sidecars, listing and pruning."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tenant_migrate.errors import MigrationError, first_line
from tenant_migrate.paths import PROJECT_ROOT

log = logging.getLogger("tenant_migrate.backup")

DEFAULT_BACKUP_DIR = PROJECT_ROOT / "backups"
MANIFEST = "manifest.json"
VERIFIED = "verified.json"
RESTORES = "restores.jsonl"
CUSTOM_FILE = "dump.pgdump"
DIRECTORY_DUMP = "dump"
BACKUP_DIR_ENV = "TENANT_MIGRATE_BACKUP_DIR"


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
        raise MigrationError(f"{backup_ref} is not a backup (no {MANIFEST} in {path}): "
                             "see `tenant-migrate backups` for the list")
    return path.resolve()


def read_manifest(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        return json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise MigrationError(f"backup {path.name} has an unreadable {MANIFEST}: {first_line(exc)}") from None


def read_sidecar(path: Path) -> dict[str, Any]:
    try:
        return json.loads((path / VERIFIED).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def record(path: Path, **fields: Any) -> dict[str, Any]:
    state = {**read_sidecar(path), **fields}
    tmp = path / f".{VERIFIED}.tmp"
    tmp.write_text(json.dumps(state, indent=2, default=str) + "\n", encoding="utf-8")
    tmp.replace(path / VERIFIED)
    return state


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
        sidecar = read_sidecar(folder)
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
