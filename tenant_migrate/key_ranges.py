"""The key ranges a batched step walks, one batch at a time: integer or uuid ids, resumable where the ledger can
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
# The first and last id by the primary key's index (no scan of the table), and its estimated rows for the progress
# of a uuid key. A btree orders uuids as their bytes, so this works for them as for integers.
ENDS = ("SELECT (SELECT id FROM public.{table} ORDER BY id LIMIT 1), (SELECT id FROM public.{table} ORDER BY id DESC "
        "LIMIT 1), (SELECT greatest(c.reltuples, 0)::bigint FROM pg_class AS c WHERE c.oid = {regclass}::regclass)")
FOLLOWING = "SELECT id FROM public.{table} WHERE id >= %s ORDER BY id OFFSET %s LIMIT 1"


@dataclass(frozen=True)
class Batch:
    """One key range [lo, hi) of a batched step; `position` and `target`: what the ledger keeps to resume at the
    next one (None: the step starts over when resumed); `done` of `total`: how far the step is after it (ids of an
    integer key, about the rows of a uuid one)."""

    lo: Any
    hi: Any
    position: int | None
    target: int | None
    done: int
    total: int


def key_ranges(run: Run, step: Step, table: str, what: str) -> Iterator[Batch]:
    """Consecutive ranges [lo, hi) of the table's id (an integer or a uuid), batch_size rows of the table each, from
    the first to the last id the table has when the step starts. Each upper end is found batch_size ids on by a short
    scan of the primary key's index: sparse ids cost no empty batches, and no batch scans more than its own rows, so
    every batch is a guard point (where the guard may pace the step) even where the step writes nothing: the step's
    own statement picks its rows (its `rows` condition) within the range. An integer id's position is kept in the
    ledger with each batch, and an interrupted step resumes there; a uuid step (its ids are wider than the ledger's
    position) starts over, its statement skipping the rows already written."""
    work, size = run.work, run.settings.batch_size
    uuid_key = key_type(work, table) == "uuid"
    names = {"table": sql.Identifier(table), "regclass": sql.Literal(f"public.{sql.Identifier(table).as_string()}")}
    progress = ledger.step_progress(run.lock_conn, run.run_id, step.name)
    low: Any
    last: Any
    if not uuid_key and progress and progress["target"] is not None:
        low, last, rows = progress["position"], progress["target"], 0
        log.info("%s: resuming at id %s of %s", what, f"{low:,}", f"{last:,}")
    else:
        low, last, rows = one(work, sql.SQL(ENDS).format(**names))
        if low is None:
            return
        if uuid_key and last == MAX_UUID:
            raise MigrationError(f"a row of {table} has the id {MAX_UUID}, past the end of every key range: "
                                 "give it another id (tenant-migrate check refuses it)")
        ledger.set_step(run.lock_conn, run.run_id, step.name, "running", *((None, None) if uuid_key else (low, last)))
    end: Any = UUID(int=last.int + 1) if uuid_key else last + 1
    following = sql.SQL(FOLLOWING).format(**names)
    done = 0
    while low <= last:
        found = work.execute(following, (low, size)).fetchone()
        high = min(found[0], end) if found else end
        if uuid_key:
            done += size
            yield Batch(low, high, None, None, min(done, rows), max(done, rows))
        else:
            yield Batch(low, high, high, last, high, end)
        low = high
