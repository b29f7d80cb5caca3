"""The one loop over the phases still to apply (tenant_migrate/pending.py), which the runner, the migrate flow and
the compatibility check share."""

from __future__ import annotations

import pytest

from tenant_migrate.errors import MigrationError
from tenant_migrate.lock import migration_lock
from tenant_migrate.pending import drive
from tenant_migrate.plan import Phase


def test_the_check_sees_every_pending_phase_once_then_each_is_acted_on_in_order(legacy_db):
    checked: list[list[int]] = []
    with migration_lock(legacy_db) as lock_conn:
        results = drive(lock_conn, 3, lambda pending: checked.append([p.number for p in pending]),
                        lambda target: target.number)
    assert [[1, 2, 3]] == checked
    assert [1, 2, 3] == results


def test_an_act_that_returns_none_stops_the_loop_there(legacy_db):
    acted: list[int] = []

    def act(target: Phase) -> int | None:
        acted.append(target.number)
        return None if target.number == 2 else target.number

    with migration_lock(legacy_db) as lock_conn:
        assert [1] == drive(lock_conn, 3, lambda pending: None, act)
    assert [1, 2] == acted


def test_a_check_that_refuses_stops_the_loop_before_any_act(legacy_db):
    acted: list[int] = []

    refusal = MigrationError("refused")

    def refuse(pending: list[Phase]) -> None:
        raise refusal

    with migration_lock(legacy_db) as lock_conn, pytest.raises(MigrationError) as raised:
        drive(lock_conn, 3, refuse, lambda target: acted.append(target.number))
    assert refusal is raised.value
    assert [] == acted
