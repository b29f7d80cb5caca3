"""tenant_migrate/forecast.py: a phase run records its size and the forecast it started with beside what it took;
the forecast comes from the runs measured on this database first, then those published for this server, then the
reference machine's; `status` and `plan --dsn` show it, and the gate's section says what the next phase locks."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tenant_migrate import forecast, runner
from tenant_migrate.cli.main import app
from tenant_migrate.db import cluster_id, connection
from tenant_migrate.flows.forecast import gate_section, rollback_section
from tenant_migrate.plan import load_plan, phase


def runs(dsn: str) -> list[tuple]:
    with connection(dsn) as conn:
        return conn.execute("SELECT phase, direction, size_bytes, duration_s, forecast_s, forecast_basis "
                            "FROM tenant_migrate.phase_runs ORDER BY id").fetchall()


def test_a_rehearsal_measures_what_the_next_run_forecasts_and_both_are_shown(legacy_db):
    runner.migrate(legacy_db, to=2)
    runner.rollback(legacy_db, 0)
    runner.migrate(legacy_db, to=1)
    first, second, *_, again = runs(legacy_db)
    assert all(r[2] > 0 for r in runs(legacy_db))  # every run knows the size it started at
    assert first[5] is None or first[5].startswith(forecast.REFERENCE)  # nothing measured here yet
    assert (1, "up") == again[:2] and again[5].startswith("measured on this database on ")
    assert abs(float(again[4]) - float(first[3])) < 0.5 * float(first[3]) + 0.2  # same size: about what it took
    with connection(legacy_db) as conn:
        measured = forecast.measured(conn, {p.number: p for p in load_plan()})
        assert {(1, "up"), (2, "up"), (2, "down"), (1, "down")} == {(m.phase, m.direction) for m in measured}
        phase4 = phase(4)
        made = forecast.forecast(conn, phase(2), "up", "instant")
        section = gate_section(conn, phase(1), float(again[3]), {"forecast_s": float(again[4]),
                                                                "forecast_basis": again[5]}, {}, None, 200)
        rolling = rollback_section(conn, phase(1), {}, 200)
        published = forecast.published(conn, {p.number: p for p in load_plan()}, {"elsewhere": {"9/up/x": []}})
        server = cluster_id(conn)
    assert made is not None and made.basis.startswith("measured on this database")
    assert made.seconds > 0 and any(line.startswith("ACCESS EXCLUSIVE") for line in made.locks)
    assert f"This phase took {forecast.duration(float(again[3]))}; its forecast was" in section
    assert "**Next, phase 2 `02_add_tenant_columns`: about " in section and "the plan said 1 day" in section
    assert "- locks: ACCESS EXCLUSIVE, only for catalog changes" in section
    assert rolling.startswith("Forecast: the rollback takes about ") and "measured on this database" in rolling
    assert {"1/up/instant", "2/up/instant", "1/down/instant", "2/down/instant"} <= set(published[server])
    assert len(json.dumps(published)) <= forecast.MAX_RATES_CHARS
    # a sweep and a validation grow with the rows; a DEFAULT does not
    kinds = {s.name: forecast.sized(s) for s in phase4.steps("up", "instant")}
    assert kinds["16_sweep_contacts"] and kinds["12_validate_tenant_foreign_keys"]
    assert kinds["15_validate_not_null_checks"] and not kinds["22_set_not_null"]
    assert not kinds["11_tenant_foreign_keys"] and not kinds["13_partitioned_tenant_foreign_keys"]
    status = CliRunner().invoke(app, ["status", "--dsn", legacy_db])
    assert 0 == status.exit_code, status.output
    row = next(line for line in status.output.splitlines() if line.strip().startswith("2 02_add_tenant_columns"))
    assert "rolled back" in row and row.split()[-2].replace(".", "").isdigit()  # its forecast, made now
    plan = CliRunner().invoke(app, ["plan", "--phase", "2", "--dsn", legacy_db])
    assert 0 == plan.exit_code, plan.output
    assert "   duration: about " in plan.output and "measured on this database" in plan.output


def test_the_sized_part_grows_along_a_line_through_two_sizes_not_in_proportion_to_one():
    """A step that reads rows has a cost that does not grow with them: scaled in proportion from a small run, a
    quick phase would be forecast ten times too long on tables ten times larger."""
    small = forecast.Measured(8, "down", "instant", 100, 0.5, 1.0, 0.5, "2026-12-06")
    large = forecast.Measured(8, "down", "instant", 1000, 0.5, 1.9, 0.9, "2026-12-06")
    line = forecast.growth([large, small])
    assert line == pytest.approx((0.9, 0.001))  # sized part: 0.9 s whatever the size, and 1 ms per byte
    assert large.scaled(10_000, line) == pytest.approx((0.5 + 1.9 * 10.9 / 1.9, 0.9 * 10.9 / 1.9))
    assert large.scaled(10_000) == pytest.approx((0.5 + 19.0, 9.0))  # in proportion, without a line
    assert forecast.growth([small, forecast.Measured(8, "down", "instant", 150, 0.5, 1.2, 0.5, "x")]) is None
    shrank = forecast.Measured(8, "down", "instant", 1000, 0.5, 0.8, 0.5, "2026-12-06")
    assert (1.0, 0.0) == forecast.growth([small, shrank])  # never a part that shrinks as the tables grow
