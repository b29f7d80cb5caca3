"""Files that only their owner can read: backups and Data Docs hold every customer's data.

Modes are set explicitly, never left to the umask: folders 0700, files 0600. A folder that holds them
must not be writable by other users (they could swap a backup or plant a link).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tenant_migrate.errors import MigrationError

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parent as folders only their owner can open (existing ones are left)."""
    for folder in reversed([p for p in (path, *path.parents) if not p.exists()]):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:  # created meanwhile by another process: its mode is its creator's
            continue
        os.chmod(folder, DIR_MODE)
    return path


def make_private(path: Path) -> None:
    """Folders 0700 and files 0600, from `path` down; symbolic links are not followed."""
    if path.is_symlink() or not path.exists():
        return
    os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                child = Path(root) / name
                if not child.is_symlink():
                    os.chmod(child, DIR_MODE if child.is_dir() else FILE_MODE)


def write_private(path: Path, text: str, *, append: bool = False) -> None:
    """Write (or append) text to a file that is 0600 from its first byte, whatever the umask."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    with os.fdopen(fd, "a" if append else "w", encoding="utf-8") as f:
        f.write(text)


def check_not_shared(folder: Path, option: str) -> None:
    """Refuse a folder that another user owns or that group or others can write to."""
    info = folder.stat()
    if info.st_uid not in (os.geteuid(), 0):
        raise MigrationError(f"{folder} belongs to another user (uid {info.st_uid}), who could read or swap what "
                             f"is kept there: choose a folder of your own as {option}")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise MigrationError(f"{folder} can be written by other users (mode {stat.S_IMODE(info.st_mode):o}): "
                             f"`chmod go-w {folder}`, or choose another {option}")
