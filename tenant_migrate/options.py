"""The limits of the run options: one rule for the command line's options and the flows' parameters, checked
before anything runs, each refusal one line (what is wrong, what to do)."""

from __future__ import annotations

from tenant_migrate.acceptance import LOAD_SECONDS, LOAD_TENANTS
from tenant_migrate.check.soft_references import check_kept
from tenant_migrate.errors import MigrationError
from tenant_migrate.plan import phase
from tenant_migrate.runner import check_rollback_target

APPROVALS = ("manual", "auto")
BATCH_SIZE = (1, 100_000)  # a batch holds its rows' locks until it commits: the live app waits that long
MIN_LOCK_TIMEOUT_MS = 10


def _at_least(what: str, value: float, low: float, unit: str) -> None:
    if value < low:
        raise MigrationError(f"{what} {value:g} {unit} is too small: give at least {low:g} {unit}")


def _common(approval: str, approval_timeout_s: int | None, poll_interval: int) -> None:
    if approval not in APPROVALS:
        raise MigrationError(f"approval must be manual or auto, not {approval!r}")
    if approval_timeout_s is not None:  # None: the default
        _at_least("approval timeout", approval_timeout_s, 1, "s")
    _at_least("poll interval", poll_interval, 1, "s")


def check_migrate_options(*, to: int | None, approval: str, approval_timeout_s: int | None, batch_size: int,
                          lock_timeout_ms: int, poll_interval: int = 5,
                          acceptance_load_tenants: int = LOAD_TENANTS, acceptance_load_seconds: float = LOAD_SECONDS,
                          keep_global_unique: tuple[str, ...] = ()) -> None:
    """Options of `migrate`: `to` a phase of the plan (None: the last), every limit above, and the values to keep
    unique across tenants (each one phase 5 makes per tenant)."""
    if to is not None:
        phase(to)
    check_kept(keep_global_unique)
    _common(approval, approval_timeout_s, poll_interval)
    low, high = BATCH_SIZE
    if not low <= batch_size <= high:
        raise MigrationError(f"batch size {batch_size} is out of range: give {low:,} to {high:,} rows per backfill "
                             "transaction (a batch holds its rows' locks until it commits)")
    _at_least("lock timeout", lock_timeout_ms, MIN_LOCK_TIMEOUT_MS, "ms")
    check_acceptance_load(acceptance_load_tenants, acceptance_load_seconds)


def check_acceptance_load(tenants: int, seconds: float) -> None:
    """The acceptance checklist's concurrent load: at least one tenant (tenant 1, on its real data), some time."""
    if tenants < 1:
        raise MigrationError(f"acceptance load tenants must be at least 1, not {tenants}")
    if seconds <= 0:
        raise MigrationError(f"acceptance load seconds must be more than 0, not {seconds:g}")


def check_rollback_options(*, to: int, approval: str, approval_timeout_s: int | None,
                           poll_interval: int = 5) -> None:
    """Options of `rollback`: `to` 0 (the legacy schema) to the last phase, and the gate's limits."""
    check_rollback_target(to)
    _common(approval, approval_timeout_s, poll_interval)
