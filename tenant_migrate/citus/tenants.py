"""A big tenant on its own: its rows moved into shards of their own, then those shards moved to another worker,
with the guard watching.

`isolate` runs Citus's isolate_tenant_to_new_shard on users with CASCADE: every colocated table's shard that holds
the tenant is split in three, the middle one holding that tenant's rows alone, on the same node. `move` runs
citus_move_shard_placement for the shard of users that holds the tenant (its colocated shards go with it). Both copy
with shard_transfer_mode 'block_writes': reads go on, and writes to the shards being copied (the tenant, and the
tenants that share its shards) wait until the copy is done. Not the online way (logical replication): on PostgreSQL
15 the subscription Citus creates may not write a table whose row-level security is FORCEd (phase 8's tables) once
the app writes during the copy ("cannot replicate into relation with row-level security enabled"), and Citus then
waits for it forever.

Each runs under the migration lock (one thing at a time: never beside a phase), as the work session the guard
watches: an app session that waits on it longer than the lock-wait budget gets it cancelled out of its way and
retried later (so the budget is the longest write stall allowed: raise it to the copy time you accept), a standby
over its lag budget pauses it before it starts, and the ceiling stops it. Citus drops what a cancelled operation
left (pg_dist_cleanup); what is left of the old shards is dropped at the end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg import errors

from tenant_migrate.citus.readiness import is_citus
from tenant_migrate.db import WORK_APPLICATION_NAME, connect, scalar
from tenant_migrate.errors import MigrationError, first_line
from tenant_migrate.guard import Budgets, Guard
from tenant_migrate.lock import migration_lock
from tenant_migrate.paths import read_sql

log = logging.getLogger("tenant_migrate.citus")
ATTEMPTS = 5  # an operation the guard cancelled for the app is tried again, at most this many times in all


@dataclass(frozen=True)
class Placement:
    shard_id: int
    node: str  # host:port of the worker that holds it
    hash_values: int  # the size of its hash range: 1 when the shard holds one tenant alone
    bytes: int  # on disk, across the colocated tables

    @property
    def alone(self) -> bool:
        return self.hash_values == 1


def placement(conn: psycopg.Connection, tenant: int) -> Placement:
    """Where a tenant's rows live; refuses a database whose tables are not distributed, or an unknown tenant."""
    if not is_citus(conn) or not scalar(conn, "SELECT EXISTS (SELECT 1 FROM pg_dist_partition "
                                              "WHERE logicalrelid = to_regclass('public.users'))"):
        raise MigrationError("users is not a distributed table here: phase 9 (migrate --to 9, on a Citus "
                             "coordinator) distributes the tables first")
    if not scalar(conn, "SELECT EXISTS (SELECT 1 FROM public.users WHERE id = %s)", (tenant,)):
        raise MigrationError(f"there is no tenant {tenant} (no users row with that id)")
    row = conn.execute(read_sql("citus/tenant_placement.sql"), {"tenant": tenant}).fetchone()
    if row is None:
        raise MigrationError(f"tenant {tenant}'s shard has no placement: check pg_dist_placement")
    shard_id, host, port, hash_values, size = row
    return Placement(shard_id, f"{host}:{port}", int(hash_values), int(size))


def _node(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise MigrationError(f"--to {text!r}: name the worker as host:port, as in citus_get_active_worker_nodes()")
    return host, int(port)


def _attempts(guard: Guard, work: psycopg.Connection, what: str, statement: str, params: tuple) -> Any:
    """The statement, tried again (after a pause) each time the guard cancelled it for the app."""
    for attempt in range(1, ATTEMPTS + 1):
        guard(what)
        try:
            return scalar(work, statement, params)
        except errors.QueryCanceled as exc:
            reason = guard.claim(work.info.backend_pid)
            if reason is None or attempt == ATTEMPTS:
                raise MigrationError(f"{what}: {first_line(exc)}" + (f" ({reason}; {attempt} attempts)" if reason
                                                                       else "")) from None
            log.warning("%s: %s; trying again in %d s", what, reason, 2 * attempt)
            time.sleep(2 * attempt)
    raise AssertionError("unreachable")


def _guarded(dsn: str, what: str, statement: str, params: tuple, budgets: Budgets,
             notify: Callable[[str], None] | None) -> dict[str, Any]:
    """Run one Citus operation as the work session the guard watches; the guard's figures."""
    guard = Guard(dsn, budgets, notify).start()
    work = connect(dsn, application_name=WORK_APPLICATION_NAME)
    try:
        _attempts(guard, work, what, statement, params)
    except psycopg.Error as exc:
        raise MigrationError(f"{what}: {first_line(exc)}") from None
    finally:
        work.close()
        figures = guard.stop()
    return figures


def _finish(dsn: str) -> None:
    """Drop now what Citus left of the shards it replaced (it would otherwise wait for its background cleanup)."""
    with connect(dsn) as conn:
        conn.execute("CALL citus_cleanup_orphaned_resources()")


def isolate(dsn: str, tenant: int, budgets: Budgets | None = None,
            notify: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Give the tenant shards of its own, on the node it is on now (writes to its shards wait for the split)."""
    with migration_lock(dsn, "isolate a tenant of") as lock_conn:
        before = placement(lock_conn, tenant)
        if before.alone:
            return {"tenant": tenant, "changed": False, "before": asdict(before), "after": asdict(before),
                    "guard": None, "seconds": 0.0}
        started = time.monotonic()
        figures = _guarded(dsn, f"isolate tenant {tenant}",
                              "SELECT isolate_tenant_to_new_shard('public.users', %s, 'CASCADE', "
                              "shard_transfer_mode => 'block_writes')", (tenant,), budgets or Budgets(), notify)
        _finish(dsn)
        after = placement(lock_conn, tenant)
    return {"tenant": tenant, "changed": True, "before": asdict(before), "after": asdict(after), "guard": figures,
            "seconds": round(time.monotonic() - started, 3)}


def move(dsn: str, tenant: int, to: str, budgets: Budgets | None = None,
         notify: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Move the shards that hold the tenant (and whoever shares them) to the worker `to` (host:port); writes to them
    wait for the copy."""
    host, port = _node(to)
    with migration_lock(dsn, "move a tenant's shards on") as lock_conn:
        before = placement(lock_conn, tenant)
        workers = {f"{h}:{p}" for h, p in lock_conn.execute("SELECT * FROM citus_get_active_worker_nodes()")}
        if f"{host}:{port}" not in workers:
            raise MigrationError(f"--to {to}: not an active worker of this cluster ({', '.join(sorted(workers))})")
        if before.node == f"{host}:{port}":
            return {"tenant": tenant, "changed": False, "before": asdict(before), "after": asdict(before),
                    "guard": None, "seconds": 0.0}
        started = time.monotonic()
        source_host, source_port = _node(before.node)
        figures = _guarded(dsn, f"move shard {before.shard_id} of tenant {tenant} to {to}",
                              "SELECT citus_move_shard_placement(%s, %s, %s, %s, %s, "
                              "shard_transfer_mode => 'block_writes')",
                              (before.shard_id, source_host, source_port, host, port), budgets or Budgets(), notify)
        _finish(dsn)
        after = placement(lock_conn, tenant)
    return {"tenant": tenant, "changed": True, "before": asdict(before), "after": asdict(after), "guard": figures,
            "seconds": round(time.monotonic() - started, 3)}
