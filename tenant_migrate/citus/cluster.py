"""A local Citus cluster of private servers, a coordinator and its workers, for tests, benchmarks and rehearsals.

Each node is a private server (tenant_migrate/embedded.py) run from the PostgreSQL binaries Citus is installed into
(Debian's PostgreSQL 15 by default, or $TENANT_MIGRATE_CITUS_BIN), with shared_preload_libraries = 'citus'; they
start in parallel. A database of the cluster exists on every node with the citus extension; the coordinator knows
itself and its workers (citus_set_coordinator_host, citus_add_node). Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import socket
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tenant_migrate import db, embedded
from tenant_migrate.db import connection
from tenant_migrate.dsn import with_database

CITUS_BIN = Path(os.environ.get("TENANT_MIGRATE_CITUS_BIN", "/usr/lib/postgresql/15/bin"))
NODE_SETTINGS = {
    "shared_preload_libraries": "'citus,pg_stat_statements'",  # citus first, as it requires
    "wal_level": "logical",  # shard moves and tenant isolation copy online by logical replication
    "max_prepared_transactions": "100",  # a transaction that writes on several nodes commits in two phases
    # node to node on the loopback only; without it libpq would look for a client certificate in the home
    # folder of the user who started the server, which the server's OS user may not read
    "citus.node_conninfo": "'sslmode=disable'",
}


@dataclass(frozen=True)
class Cluster:
    coordinator: str  # DSN of the coordinator's maintenance database
    workers: tuple[str, ...]  # DSNs of the workers' maintenance databases
    data_dirs: tuple[Path, ...]  # the coordinator's first
    bin_dir: Path

    @property
    def nodes(self) -> tuple[str, ...]:
        return (self.coordinator, *self.workers)


def unavailable(bin_dir: Path = CITUS_BIN) -> str | None:
    """Why no Citus cluster can be started here, or None when one can."""
    if not (bin_dir / "pg_ctl").is_file() or not (bin_dir / "pg_config").is_file():
        return (f"no PostgreSQL binaries with pg_config in {bin_dir} (set TENANT_MIGRATE_CITUS_BIN to the bin folder "
                "of the PostgreSQL 15-17 that Citus is installed into)")
    libdir = subprocess.run([str(bin_dir / "pg_config"), "--pkglibdir"], capture_output=True, text=True,
                            check=True).stdout.strip()
    if not (Path(libdir) / "citus.so").is_file():
        return (f"Citus is not installed into the PostgreSQL of {bin_dir} (no citus.so in {libdir}); it has no "
                "package here: build it from the citusdata/citus repository, tag v13.2.2 (docs/scale-out.md)")
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(base: Path, workers: int = 2, bin_dir: Path = CITUS_BIN) -> Cluster:
    """A coordinator and `workers` workers in data directories under `base`, started in parallel."""
    embedded._server_user()  # noqa: SLF001 - creates the server's OS user once, before the parallel starts
    dirs = tuple(base / name for name in ["coordinator", *(f"worker{i}" for i in range(1, workers + 1))])
    with ThreadPoolExecutor(len(dirs)) as pool:
        dsns = list(pool.map(lambda d: embedded.start(d, _free_port(), bin_dir=bin_dir, settings=NODE_SETTINGS),
                             dirs))
    return Cluster(dsns[0], tuple(dsns[1:]), dirs, bin_dir)


def stop(cluster: Cluster) -> None:
    with ThreadPoolExecutor(len(cluster.data_dirs)) as pool:
        list(pool.map(lambda d: embedded.stop(d, cluster.bin_dir), cluster.data_dirs))


def _host_port(dsn: str) -> tuple[str, int]:
    with connection(dsn) as conn:
        return conn.info.host, conn.info.port


def create_database(cluster: Cluster, name: str) -> str:
    """A database of that name on every node, with the citus extension, the workers added to the coordinator's;
    returns the coordinator's DSN for it."""
    for node in cluster.nodes:
        with connection(node) as conn:
            db.create_database(conn, name)
        with connection(with_database(node, name)) as conn:
            conn.execute("CREATE EXTENSION citus")
    coordinator = with_database(cluster.coordinator, name)
    with connection(coordinator) as conn:
        conn.execute("SELECT citus_set_coordinator_host(%s, %s)", _host_port(cluster.coordinator))
        for worker in cluster.workers:
            conn.execute("SELECT citus_add_node(%s, %s)", _host_port(worker))
    return coordinator


def drop_database(cluster: Cluster, name: str) -> None:
    """Drop the database on every node (the coordinator first: its connections to the workers go with it)."""
    for node in cluster.nodes:
        with connection(node) as conn:
            db.drop_database(conn, name)
