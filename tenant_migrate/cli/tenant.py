"""Commands for one tenant on a distributed database (after phase 9): where its rows live, shards of its own, and
those shards moved to another worker, with the guard watching."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tenant_migrate.citus import tenants
from tenant_migrate.cli.common import (
    DsnOption,
    JsonOption,
    emit,
    fail_cleanly,
    show_logs,
    target_dsn,
    with_budget_options,
)
from tenant_migrate.db import connection
from tenant_migrate.guard import Budgets, report

TenantOption = Annotated[int, typer.Option("--tenant", help="The tenant: its users.id.")]


def _placement_line(p: dict[str, Any]) -> str:
    alone = "its own" if p["hash_values"] == 1 else f"shared with the rest of a range of {p['hash_values']:,} hashes"
    return f"shard {p['shard_id']} on {p['node']} ({alone}; {p['bytes']:,} bytes across the colocated tables)"


def _outcome(result: dict[str, Any], as_json: bool, done: str) -> None:
    lines = [f"tenant {result['tenant']}: {done if result['changed'] else 'nothing to do'}",
             f"  before: {_placement_line(result['before'])}", f"  after:  {_placement_line(result['after'])}"]
    if result["guard"]:
        lines.append(f"  {result['seconds']} s; {report.one_line(result['guard'])}")
    emit(result, as_json, "\n".join(lines))


def where_command(tenant: TenantOption, dsn: DsnOption = None, as_json: JsonOption = False) -> None:
    """Where the tenant's rows live: its shard, the worker that holds it, whether it shares it."""
    with connection(target_dsn(dsn)) as conn:
        found = vars(tenants.placement(conn, tenant))
    emit(found, as_json, f"tenant {tenant}: {_placement_line(found)}")


def isolate_command(
    tenant: TenantOption,
    dsn: DsnOption = None,
    as_json: JsonOption = False,
    *,
    budgets: Budgets,
) -> None:
    """Give the tenant shards of its own (isolate_tenant_to_new_shard, every colocated table), on the worker it is on;
    then `tenant move` can take them elsewhere. Writes to its shards wait for the split: the guard cancels it (and
    retries) when an app session waits longer than --lock-wait-budget-ms, so set that to the stall you accept."""
    show_logs()
    _outcome(tenants.isolate(target_dsn(dsn), tenant, budgets), as_json, "isolated in shards of its own")


def move_command(
    tenant: TenantOption,
    to: Annotated[str, typer.Option("--to", help="The worker to move to, as host:port.")],
    dsn: DsnOption = None,
    as_json: JsonOption = False,
    *,
    budgets: Budgets,
) -> None:
    """Move the shards that hold the tenant (with every colocated table's) to another worker
    (citus_move_shard_placement). Writes to them wait for the copy: --lock-wait-budget-ms is the stall you accept."""
    show_logs()
    _outcome(tenants.move(target_dsn(dsn), tenant, to, budgets), as_json, f"moved to {to}")


def register(app: typer.Typer) -> None:
    tenant_app = typer.Typer(help="One tenant of a distributed database (after phase 9): where it lives, shards of "
                                  "its own, a move to another worker.", no_args_is_help=True)
    tenant_app.command("where")(fail_cleanly(where_command))
    tenant_app.command("isolate")(fail_cleanly(with_budget_options(pacing=False)(isolate_command)))
    tenant_app.command("move")(fail_cleanly(with_budget_options(pacing=False)(move_command)))
    app.add_typer(tenant_app, name="tenant")
