"""The key ranges a batched step writes, one batch at a time: integer or uuid ids, resumable where the ledger can
keep the position."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from psycopg import sql

from tenant_migrate import ledger
from tenant_migrate.db import key_type, one
from tenant_migrate.errors import MigrationError
from tenant_migrate.plan import Step

if TYPE_CHECKING:
    from tenant_migrate.steps import Run

log = logging.getLogger("tenant_migrate.steps")
MAX_UUID = UUID(int=2**128 - 1)  # RFC 9562's Max UUID: no key range [lo, hi) can hold it


@dataclass(frozen=True)
class Batch:
    """One key range [lo, hi) of a batched step; `position` and `target`: what the ledger keeps to resume at the
    next one (None: the step starts over when resumed); `done` of `total`: how far the step is after it (ids of an
    integer key, rows of a uuid one)."""

    lo: Any
    hi: Any
    position: int | None
    target: int | None
    done: int
    total: int


# The ends of the rows a batched step writes, in one scan: the first and last id (and, of a uuid id, how many rows,
# for its progress). uuids sort as their text does in the C collation (the hex digits of the same 16 bytes), which
# stands in for the min(uuid) / max(uuid) PostgreSQL does not have.
BOUNDS = {False: "SELECT NULL::bigint, min(id), max(id) FROM public.{} WHERE {}",
          True: 'SELECT count(*), min(id::text COLLATE "C"), max(id::text COLLATE "C") FROM public.{} WHERE {}'}


def key_ranges(run: Run, step: Step, table: str, what: str) -> Iterator[Batch]:
    """Consecutive ranges [lo, hi) of the table's id (an integer or a uuid) holding batch_size rows each, each upper
    end found batch_size ids on by a short scan of the primary key's index (so sparse ids cost no empty batches),
    from the first to the last id of the rows to write as seen when the step starts. An integer id's position is
    kept in the ledger with each batch, and an interrupted step resumes there; a uuid step (its ids are wider than
    the ledger's position) starts over, its statements skipping the rows already written."""
    work, size = run.work, run.settings.batch_size
    uuid_key = key_type(work, table) == "uuid"
    progress = ledger.step_progress(run.lock_conn, run.run_id, step.name)
    low: Any
    last: Any
    if not uuid_key and progress and progress["target"] is not None:
        count, low, last = None, progress["position"], progress["target"]
        log.info("%s: resuming at id %s of %s", what, f"{low:,}", f"{last:,}")
    else:
        count, low, last = one(work, sql.SQL(BOUNDS[uuid_key]).format(sql.Identifier(table),
                                                                      sql.SQL(step.rows or "true")))
        if low is None:
            return
        if uuid_key:
            low, last = UUID(low), UUID(last)
            if last == MAX_UUID:
                raise MigrationError(f"a row of {table} has the id {MAX_UUID}, past the end of every key range: "
                                     "give it another id (tenant-migrate check refuses it)")
        ledger.set_step(run.lock_conn, run.run_id, step.name, "running", *((None, None) if uuid_key else (low, last)))
    end: Any = UUID(int=last.int + 1) if uuid_key else last + 1
    following = sql.SQL("SELECT id FROM public.{} WHERE id >= %s ORDER BY id OFFSET %s LIMIT 1").format(
        sql.Identifier(table))
    done = 0
    while low <= last:
        found = work.execute(following, (low, size)).fetchone()
        high = min(found[0], end) if found else end
        if uuid_key:
            done = min(done + size, count or 0)
            yield Batch(low, high, None, None, done, count or 0)
        else:
            yield Batch(low, high, high, last, high, end)
        low = high
