"""The duration forecast in the flows: the rates other runs published (a Prefect Variable, shared by every worker),
the gate's section (this phase's forecast beside what it took, the next phase's forecast and what it will lock), and
this run's rates published for the next ones (the nightly dry run's among them)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from prefect.logging import get_run_logger
from prefect.variables import Variable

from tenant_migrate import forecast, ledger, runner
from tenant_migrate.db import connection
from tenant_migrate.errors import first_line
from tenant_migrate.plan import Phase, load_plan

RATES_VARIABLE = "tenant_migrate_rates"


def load_rates() -> forecast.Rates:
    """The rates published so far ({} when there are none or the API cannot give them: the forecast then relies on
    the database's own ledger and the reference machine's rates)."""
    try:
        rates: Any = Variable.get(RATES_VARIABLE, default={})
    except Exception as exc:  # noqa: BLE001 - a forecast input, never a reason to stop a migration
        get_run_logger().warning("forecast: rates not read from the Prefect Variable %s (%s)", RATES_VARIABLE,
                                 first_line(exc))
        return {}
    return rates if isinstance(rates, dict) else {}


def publish_rates(dsn: str, rates: forecast.Rates | None = None) -> None:
    """Add the measured runs of this database's ledger to the published rates (`rates`: as read at the start, else
    read now), as this server's."""
    try:
        with connection(dsn) as conn:
            merged = forecast.published(conn, {p.number: p for p in load_plan()},
                                        load_rates() if rates is None else rates)
        Variable.set(RATES_VARIABLE, merged, overwrite=True)
    except Exception as exc:  # noqa: BLE001 - the migration is done; only the next forecast loses these rates
        get_run_logger().warning("forecast: rates not published (%s)", first_line(exc))


@contextmanager
def publishing_rates(dsn: str, rates: forecast.Rates) -> Iterator[None]:
    """Around a flow's phases: when the block ends, however it ends, the runs it measured are published."""
    try:
        yield
    finally:
        publish_rates(dsn, rates)


def lock_lines(made: forecast.Forecast) -> list[str]:
    return [f"- locks: {line}" for line in made.locks]


def recorded(lock_conn: psycopg.Connection, number: int, run_id: int) -> dict[str, Any]:
    """The forecast the run `run_id` of phase `number` started with: {"forecast_s", "forecast_basis"} (None when it
    had none)."""
    run = ledger.latest_run(lock_conn, number, "up")
    if not run or run["id"] != run_id or run.get("forecast_s") is None:
        return {"forecast_s": None, "forecast_basis": None}
    return {"forecast_s": float(run["forecast_s"]), "forecast_basis": run["forecast_basis"]}


def gate_section(lock_conn: psycopg.Connection, target: Phase, seconds: float, expected: dict[str, Any],
                 rates: forecast.Rates, backfill: str | None, lock_timeout_ms: int) -> str:
    """The gate's forecast section: this phase's forecast (`expected`, from recorded) beside the `seconds` it took,
    then the next phase's forecast and what it will lock."""
    lines = ["#### Forecast"]
    if expected["forecast_s"] is not None:
        off = f"{100 * (seconds - expected['forecast_s']) / expected['forecast_s']:+.0f}%" \
            if expected["forecast_s"] > 0 else "-"
        lines.append(f"This phase took {forecast.duration(seconds)}; its forecast was "
                     f"{forecast.duration(expected['forecast_s'])} ({off}; {expected['forecast_basis']}).")
    plan = load_plan()
    if target.number >= len(plan):
        return "\n".join([*lines, "No phase after this one."])
    following = plan[target.number]
    try:
        way = runner.backfill_way(lock_conn, backfill)
        made = forecast.forecast(lock_conn, following, "up", way, rates, lock_timeout_ms)
    except (psycopg.Error, ValueError, OSError) as exc:
        return "\n".join([*lines, f"No forecast of phase {following.number}: {first_line(exc)}."])
    if made is None:
        return "\n".join([*lines, f"No forecast of phase {following.number}: no run of it was ever measured."])
    lines += [f"**Next, phase {following.number} `{following.name}`: {made.line()}**; the plan said "
              f"{following.plan_duration}.", *lock_lines(made)]
    return "\n".join(lines)


def rollback_section(lock_conn: psycopg.Connection, target: Phase, rates: forecast.Rates,
                     lock_timeout_ms: int) -> str:
    """The rollback gate's forecast of the phase's rollback."""
    try:
        way = runner.backfill_way(lock_conn, None)
        made = forecast.forecast(lock_conn, target, "down", way, rates, lock_timeout_ms)
    except (psycopg.Error, ValueError, OSError) as exc:
        return f"Forecast: none ({first_line(exc)})."
    if made is None:
        return "Forecast: none: no rollback of this phase was ever measured."
    return "\n".join([f"Forecast: the rollback takes {made.line()}.", *lock_lines(made)])
