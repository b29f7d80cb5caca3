"""Real PgBouncers for the tests: Debian's binary, our own ini and auth file in a temp folder, one process per pool
mode, in front of the test server (tests/conftest.py's `pgbouncer` fixture)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tenant_migrate import standby

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
MODES = ("transaction", "session", "statement")
POOL_SIZE = {"transaction": 2, "session": 20, "statement": 2}  # 2: clients of a transaction pool share server conns


@dataclass
class Poolers:
    """The running PgBouncers: their port by pool mode, and their folder (ini, log, pid files)."""

    folder: Path
    ports: dict[str, int] = field(default_factory=dict)

    def dsn(self, dsn: str, mode: str) -> str:
        """`dsn`'s database and user, through the PgBouncer of this pool mode."""
        return make_conninfo(dsn, host="127.0.0.1", port=str(self.ports[mode]))

    def version(self) -> tuple[int, ...]:
        out = subprocess.run([BINARY, "--version"], capture_output=True, text=True, check=True).stdout
        return tuple(int(n) for n in out.split()[1].split("."))


def installed() -> bool:
    return Path(BINARY).exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _os_user(server: str) -> str | None:
    """PgBouncer refuses to run as root: then it runs as the test server's OS user (or nobody)."""
    if os.geteuid() != 0:
        return None
    return (standby.local_server(server).os_user if standby.is_local(server) else None) or "nobody"


def start(server: str, folder: Path) -> Poolers:
    """One PgBouncer per pool mode in front of the server of `server` (every database: `*`), trusting the
    server's user locally and logging in to the server with its password if the DSN has one. The transaction
    pool admits that user to its admin console (SHOW VERSION), the others do not."""
    parts = conninfo_to_dict(server)
    user, password = str(parts.get("user") or "postgres"), str(parts.get("password") or "")
    os_user = _os_user(server)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "users.txt").write_text(f'"{user}" "{password}"\n')
    poolers = Poolers(folder)
    for mode in MODES:
        port = poolers.ports[mode] = _free_port()
        (folder / f"{mode}.ini").write_text(
            f"[databases]\n* = host={parts.get('host') or '127.0.0.1'} port={parts.get('port') or 5432}\n"
            f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {folder / 'users.txt'}\npool_mode = {mode}\n"
            f"default_pool_size = {POOL_SIZE[mode]}\nmax_client_conn = 200\nquery_wait_timeout = 20\n"
            f"admin_users = {user if mode == 'transaction' else ''}\n"
            f"ignore_startup_parameters = extra_float_digits\n"
            f"logfile = {folder / mode}.log\npidfile = {folder / mode}.pid\n")
    if os_user:  # its folder is its own, and every folder above it can be passed through (o+x)
        for path in (folder, *folder.iterdir()):
            shutil.chown(path, os_user)
        for parent in folder.parents:
            parent.chmod(parent.stat().st_mode | 0o001)
    for mode in MODES:
        as_user = {"user": os_user, "group": pwd.getpwnam(os_user).pw_gid, "extra_groups": []} if os_user else {}
        subprocess.run([BINARY, "-d", str(folder / f"{mode}.ini")], check=True, capture_output=True, **as_user)
    for mode, port in poolers.ports.items():
        _wait_listening(port, folder / f"{mode}.log")
    return poolers


def _wait_listening(port: int, log: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"pgbouncer did not listen on {port}: {log.read_text() if log.exists() else 'no log'}")


def stop(poolers: Poolers) -> None:
    for mode in poolers.ports:
        pidfile = poolers.folder / f"{mode}.pid"
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGTERM)
