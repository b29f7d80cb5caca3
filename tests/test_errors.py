"""tenant_migrate/errors.py: every typed error is a MigrationError whose data survives pickling (Prefect may
persist a failed run's exception), message and attributes alike."""

import pickle
from typing import Any

from tenant_migrate.check.objects import Finding
from tenant_migrate.errors import (
    ConflictError,
    GateTimedOut,
    GuardStopped,
    LockHeld,
    MigrationError,
    PhaseFailed,
    ValidationFailed,
)


def test_typed_errors_keep_their_message_and_data_through_pickle():
    stop = GuardStopped("guard stopped the phase: lag", reason="lag")
    errors = [
        LockHeld("another migration is running", holder="pid 1"),
        stop,
        PhaseFailed("phase 4 failed", phase=4, step="backfill", cause=stop),
        ConflictError("check: refused", findings=[Finding(5, "refuse", "data", "1 rows")]),
        ValidationFailed("validation FAILED", phase=3, failing=["expect x"]),
        GateTimedOut("approval timed out", phase=1, direction="up", verdict="timed_out"),
    ]
    for error in errors:
        copy = copy_of(error)
        assert isinstance(copy, MigrationError) and type(copy) is type(error)
        assert (str(error), error.__dict__.keys()) == (str(copy), copy.__dict__.keys())
    assert ("lag", 4) == (copy_of(errors[2]).cause.reason, copy_of(errors[2]).phase)
    assert ["expect x"] == copy_of(errors[4]).failing


def copy_of(error: Exception) -> Any:
    return pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes, just made
