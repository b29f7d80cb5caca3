"""Pieces every `tenant-migrate` command shares: options, the database, errors and output."""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

import typer

from tenant_migrate import dsn as dsns
from tenant_migrate.errors import MigrationError
from tenant_migrate.guard import Budgets

DsnOption = Annotated[
    str | None,
    typer.Option("--dsn", help="PostgreSQL DSN of the target database, or the name of a Prefect Secret block "
                 "holding one (default: $DATABASE_URL, else the embedded server's demo database).",
                 show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON for scripts.")]
BackfillOption = Annotated[str | None, typer.Option(
    "--backfill", help="The way through phases 2-4: instant (default: tenant columns with DEFAULT 1, no row "
    "rewritten) or batched (nullable columns filled in primary-key batches); once phase 2 ran, its way.",
    show_default=False)]

KeepGlobalUniqueOption = Annotated[list[str] | None, typer.Option(
    "--keep-global-unique", show_default=False, metavar="COLUMN",
    help="Keep this value (phone_number, thread_id) unique across tenants: phase 5 leaves the app's own unique key "
    "on it beside the per-tenant one (for the app's tables that hold it without a tenant: docs/real-schemas.md). "
    "Repeatable.")]


def fail_cleanly(command: Callable) -> Callable:
    """Turn a MigrationError into one line on stderr and exit code 1."""

    @wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except MigrationError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None

    return wrapper


def target_dsn(dsn: str | None) -> str:
    """The database to work on: --dsn, $DATABASE_URL, or the embedded server's demo database."""
    return dsns.resolve(dsn)


def show_logs(logger: str = "tenant_migrate") -> None:
    """The engine's progress lines (of `logger` and below) on the console (commands that run without a flow)."""
    logging.basicConfig(format="%(asctime)s %(message)s", datefmt="%H:%M:%S", level=logging.WARNING)
    logging.getLogger(logger).setLevel(logging.INFO)


def emit(result: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(result, indent=2, default=str) if as_json else text)


def counts_table(counts: dict[str, int]) -> str:
    width = max(map(len, counts), default=5)
    return "\n".join(f"  {table:<{width}}  {n:>12,}" for table, n in counts.items())


# option parameter: (its type and option, the Budgets field it sets)
BUDGET_OPTIONS: dict[str, tuple[Any, str]] = {
    "lock_wait_budget_ms": (Annotated[int, typer.Option(
        "--lock-wait-budget-ms", help="An app session that waited this long on the migration gets the migration's "
        "statement cancelled out of its way (retried later, like a lock timeout).")], "lock_wait_ms"),
    "lag_budget_s": (Annotated[float, typer.Option(
        "--lag-budget-s", help="Batched work pauses while a standby's replay is this far behind (until under half).")],
        "lag_s"),
    "lag_budget_mb": (Annotated[float, typer.Option("--lag-budget-mb", help="... or this much WAL behind.")], "lag_mb"),
    "budget_ceiling": (Annotated[float, typer.Option(
        "--budget-ceiling", help="At this many times a budget the phase stops (resumably) and the run fails, saying "
        "why.")], "ceiling"),
    "max_pause_s": (Annotated[float, typer.Option(
        "--max-pause-s", help="A pause for replica lag or the app's latency longer than this stops the phase "
        "(resumably).")], "max_pause_s"),
    "app_latency_budget_ms": (Annotated[float, typer.Option(
        "--app-latency-budget-ms", help="The app's statements this much slower than their usual time "
        "(pg_stat_statements, over the last second): the next scan chunk, batch or statement waits until under half; "
        "0: no pacing.")], "app_latency_ms"),
}


def with_budget_options(*, pacing: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Replace the command's `budgets: Budgets` parameter by the budget options (without --app-latency-budget-ms
    where the command does not pace: `pacing=False`); the command receives them as one Budgets, checked before it
    runs (a bad value is a one-line error)."""
    options = {name: option for name, option in BUDGET_OPTIONS.items() if pacing or name != "app_latency_budget_ms"}

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.name != "budgets"]
        added = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind,
                                   default=getattr(Budgets, field)) for name, (kind, field) in options.items()]

        @wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            budgets = Budgets(**{field: kwargs.pop(name) for name, (_, field) in options.items()})
            return command(**kwargs, budgets=budgets)

        wrapper.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in [*own, *added]}
        return wrapper

    return decorate
