"""The phases still to apply, and the one loop over them that the plain runner, the migrate flow and the
compatibility check's scratch copy share: check them all once, then act on each in order."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import psycopg

from tenant_migrate import ledger
from tenant_migrate.errors import MigrationError
from tenant_migrate.plan import Phase, default_target, load_plan, phase

T = TypeVar("T")


def pending_phases(conn: psycopg.Connection, to: int | None) -> list[Phase]:
    """The phases to apply to reach `to` (default: the last that every server takes), in order; refuses a gap in
    what is applied."""
    plan = load_plan()
    to = default_target() if to is None else phase(to).number
    applied = ledger.applied_phases(conn)
    gaps = [n for n in applied if any(m not in applied for m in range(1, n))]
    if gaps:
        raise MigrationError(f"ledger: phase {min(gaps)} is applied but an earlier phase is not; "
                             "roll back to the last phase applied in order")
    return [p for p in plan if p.number <= to and p.number not in applied]


def drive(lock_conn: psycopg.Connection, to: int | None, check: Callable[[list[Phase]], None],
          act: Callable[[Phase], T | None]) -> list[T]:
    """The phases still to apply up to `to`: `check` sees them all once (and raises to refuse them before any
    change), then `act` applies each in order; an act that returns None stops the loop there. The acts' results,
    in order."""
    pending = pending_phases(lock_conn, to)
    check(pending)
    results = []
    for target in pending:
        result = act(target)
        if result is None:
            break
        results.append(result)
    return results
