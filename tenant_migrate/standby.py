"""A streaming standby of a local PostgreSQL server, for rehearsals, tests and benchmarks of the guard.

`pg_basebackup -R` copies the running server into a new data directory that streams from it; the
standby then runs beside it on a free port. Both are done with the server's own binaries (found from
its postmaster's executable) and as the OS user that owns its data directory, so this works for the
embedded server and for a distribution's cluster alike. The standby gets the settings a hot standby
must not have lower than its primary (max_connections, ...), whatever file or command line set them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from psycopg.conninfo import make_conninfo

from tenant_migrate.db import connection, scalar
from tenant_migrate.dsn import tool_env
from tenant_migrate.errors import MigrationError

# a hot standby refuses to start with any of these lower than on its primary
MUST_MATCH = ("max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions",
              "max_locks_per_transaction")


@dataclass(frozen=True)
class Server:
    """A local server as the OS sees it: where its binaries are, who runs it."""

    data_dir: Path
    bin_dir: Path
    os_user: str | None  # None: ourselves


@dataclass(frozen=True)
class Standby:
    dsn: str  # its maintenance database
    name: str  # its application_name in the primary's pg_stat_replication
    data_dir: Path
    server: Server


def local_server(dsn: str) -> Server:
    """The binaries and OS user of the server behind `dsn`, which must run on this machine."""
    with connection(dsn) as conn:
        data_dir = Path(scalar(conn, "SELECT current_setting('data_directory')"))
    pid_file = data_dir / "postmaster.pid"
    if not pid_file.is_file():
        raise MigrationError(f"the server's data directory {data_dir} is not on this machine: a standby can only be "
                             "made of a local server")
    exe = Path(os.readlink(f"/proc/{pid_file.read_text().split()[0]}/exe"))
    owner = pwd.getpwuid(data_dir.stat().st_uid).pw_name
    return Server(data_dir, exe.parent, None if owner == pwd.getpwuid(os.geteuid()).pw_name else owner)


def is_local(dsn: str) -> bool:
    """The server behind `dsn` runs on this machine, so that a standby of it can be made here."""
    try:
        local_server(dsn)
    except (MigrationError, OSError):
        return False
    return True


def _run(server: Server, args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """A server binary run as the server's OS user (with that user's group only)."""
    kwargs: dict = {}
    if server.os_user:
        kwargs = {"user": server.os_user, "group": pwd.getpwnam(server.os_user).pw_gid, "extra_groups": []}
    return subprocess.run([str(server.bin_dir / args[0]), *args[1:]], capture_output=True, text=True, env=env,
                          timeout=300, **kwargs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(primary: str, name: str = "tm_standby") -> Standby:
    """Copy the primary with pg_basebackup -R and start the copy as its streaming standby; returns once the
    primary sees it streaming."""
    server = local_server(primary)
    with connection(primary) as conn:
        settings = {s: scalar(conn, "SELECT current_setting(%s)", (s,)) for s in MUST_MATCH}
    folder = Path(tempfile.mkdtemp(prefix="tm-standby-"))
    if server.os_user:
        account = pwd.getpwnam(server.os_user)
        os.chown(folder, account.pw_uid, account.pw_gid)
    data_dir = folder / "data"
    conninfo, env = tool_env(primary)  # pg_basebackup ignores the database name
    copied = _run(server, ["pg_basebackup", "-D", str(data_dir), "-R", "-X", "stream", "-c", "fast",
                           "-d", conninfo], env)
    if copied.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise MigrationError(f"pg_basebackup failed: {copied.stderr.strip().splitlines()[-1:]}")
    port = _free_port()
    options = " ".join([f"-p {port}", f"-k {folder}", "-c listen_addresses=127.0.0.1", f"-c cluster_name={name}",
                        *(f"-c {k}={v}" for k, v in settings.items())])
    started = _run(server, ["pg_ctl", "-D", str(data_dir), "-w", "-t", "60", "-l", str(folder / "server.log"),
                            "-o", options, "start"])
    standby = Standby(make_conninfo(primary, host="127.0.0.1", port=str(port), dbname="postgres"), name, data_dir,
                      server)
    if started.returncode != 0:
        stop(standby)
        raise MigrationError(f"the standby did not start: {started.stderr.strip() or started.stdout.strip()}")
    wait_streaming(primary, name)
    return standby


def wait_streaming(primary: str, name: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    with connection(primary) as conn:
        while time.monotonic() < deadline:
            if scalar(conn, "SELECT count(*) FROM pg_stat_replication WHERE application_name = %s "
                            "AND state = 'streaming'", (name,)):
                return
            time.sleep(0.2)
    raise MigrationError(f"standby {name} is not streaming after {timeout_s:.0f} s")


def stop(standby: Standby) -> None:
    """Stop the standby (immediately: it holds nothing worth a clean shutdown) and delete its files."""
    if (standby.data_dir / "postmaster.pid").exists():
        _run(standby.server, ["pg_ctl", "-D", str(standby.data_dir), "-m", "immediate", "-w", "stop"])
    shutil.rmtree(standby.data_dir.parent, ignore_errors=True)
