"""The acceptance checklist's "Performance" section: the plan's budgets, at the database's real size."""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from functools import partial
from itertools import count
from typing import Any

import psycopg

from tenant_migrate import backend_contract as bc
from tenant_migrate.acceptance.checks import (
    Checks,
    Line,
    acting_as,
    committed_tenants,
    ensure,
    onboard,
    own_transaction,
    process_message,
)
from tenant_migrate.citus.readiness import is_citus
from tenant_migrate.db import connect, scalar
from tenant_migrate.errors import first_line
from tenant_migrate.paths import read_sql

QUERY_BUDGET_MS = 100.0  # the plan: database queries under 100 ms


MESSAGE_BUDGET_MS = 2000.0  # the plan: message processing under 2 seconds


SMALL_TABLE_ROWS = 10_000  # below this a sequential scan is the planner's right choice


SHARD_SUFFIX = re.compile(r"_\d+$")  # Citus names a shard and its indexes <table or index>_<shard id>


PERFORMANCE_QUERIES = {
    "contact by phone number": "query_contact_by_phone",
    "a contact's last 50 messages": "query_contact_messages",
    "a tenant's orders by status": "query_orders_by_status",
    "today's usage": "query_usage_today",
}


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method); the single value of a one-element list."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else (values or [0.0])[0]


def timing_text(ms: list[float]) -> str:
    return f"p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 95):.1f} ms ({len(ms)} runs)"


def plan_nodes(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The scan nodes of the query's plan, and how many shards it runs on (0: not a Citus distributed query). On a
    Citus coordinator the scans are those of each shard's plan, named by their table and index (`contacts`, not the
    shard's `contacts_102301`)."""
    tasks = 0

    def walk(node: dict[str, Any], on_shard: bool) -> Iterator[dict[str, Any]]:
        nonlocal tasks
        if on_shard:
            node = {**node, **{k: SHARD_SUFFIX.sub("", node[k]) for k in ("Relation Name", "Index Name") if k in node}}
        yield node
        for child in node.get("Plans", []):
            yield from walk(child, on_shard)
        job = node.get("Distributed Query", {}).get("Job", {})
        tasks += job.get("Task Count", 0)
        for task in job.get("Tasks", []):
            for remote in task.get("Remote Plan", []):
                for part in remote:
                    yield from walk(part["Plan"], True)

    plan = scalar(conn, "EXPLAIN (FORMAT JSON) " + query, params)[0]["Plan"]
    return [n for n in walk(plan, False) if n.get("Relation Name") or n.get("Index Name")], tasks


def index_evidence(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> str:
    """How the planner reads each table of the query (on Citus: on how many shards); fails if a big table is read
    without an index."""
    scans, tasks = plan_nodes(conn, query, params)
    seq = [n["Relation Name"] for n in scans if n["Node Type"] == "Seq Scan"]
    chosen = ", ".join(dict.fromkeys(
        f"{n['Node Type']}{' using ' + n['Index Name'] if n.get('Index Name') else ''}"
        f"{' on ' + n['Relation Name'] if n.get('Relation Name') else ''}" for n in scans))
    chosen += f" ({tasks} shard{'s' if tasks > 1 else ''})" if tasks else ""
    if not seq:
        return chosen
    conn.execute("SET enable_seqscan = off")
    forced, _ = plan_nodes(conn, query, params)
    conn.execute("RESET enable_seqscan")
    for table in dict.fromkeys(seq):
        rows = scalar(conn, "SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (f"public.{table}",)
                            )
        indexed = any(n.get("Index Name") for n in forced if n.get("Relation Name") in (table, None))
        ensure(indexed, f"no index serves this query on {table}: {chosen}")
        ensure(rows < SMALL_TABLE_ROWS, f"sequential scan of {table} ({rows:,.0f} rows): {chosen}")
    return f"{chosen} (small table; an index serves it when it grows)"


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def query_performance(checks: Checks, app_role: str | None, samples: int) -> None:
    """The tenant-scoped queries of the admin tenant, which holds all the data: index used, p50/p95."""
    conn = checks.conn
    params = [{"user_id": 1, **dict(zip(("contact_id", "phone_number", "status"), row, strict=True))}
              for row in conn.execute(read_sql("acceptance/query_samples.sql"), {"user_id": 1, "n": samples})]

    def measure(query_file: str) -> Callable[[], str]:
        def check() -> str:
            ensure(bool(params), "tenant 1 has no contacts to query")
            query = read_sql(f"acceptance/{query_file}.sql")
            with acting_as(conn, app_role, 1):
                plan = index_evidence(conn, query, params[0])
                ms = [timed(partial(conn.execute, query, p)) for p in params]
            ensure(percentile(ms, 95) < QUERY_BUDGET_MS, f"p95 {percentile(ms, 95):.1f} ms over {QUERY_BUDGET_MS} ms")
            return f"{timing_text(ms)}; {plan}"
        return check

    for item, query_file in PERFORMANCE_QUERIES.items():
        checks.run("Performance", f"Query under {QUERY_BUDGET_MS:.0f} ms: {item}", measure(query_file))

    def messages() -> str:
        ensure(bool(params), "tenant 1 has no contacts")
        with acting_as(conn, app_role, 1):
            ms = [timed(partial(process_message, conn, p["phone_number"])) for p in params[:20]]
        ensure(percentile(ms, 95) < MESSAGE_BUDGET_MS, f"p95 {percentile(ms, 95):.1f} ms")
        return f"receive → log → reply: {timing_text(ms)}"

    checks.run("Performance", f"Message processing under {MESSAGE_BUDGET_MS / 1000:.0f} seconds", messages)


def tenant_round(conn: psycopg.Connection, phone: str, with_order: bool, tenant: dict[str, int]) -> list[float]:
    """One round of a tenant's backend: a message processed, the contact's feed read, maybe an order."""
    start = time.perf_counter()
    contact = process_message(conn, phone, **tenant)
    ms = [(time.perf_counter() - start) * 1000]
    feed = read_sql("acceptance/query_contact_messages.sql")
    ms.append(timed(lambda: conn.execute(feed, {"user_id": tenant["user_id"], "contact_id": contact.id}).fetchall()))
    if with_order:
        ms.append(timed(lambda: bc.create_order(conn, contact.id, {"items": ["load"]}, **tenant)))
    return ms


def tenant_worker(dsn: str, tenant: dict[str, int] | None, app_role: str | None, phones: list[str], seconds: float,
                  latencies: list[float], errors: list[str]) -> None:
    """One tenant's backend for `seconds` after one untimed round: messages in and out, feed reads, orders; all
    rolled back. The first round of a session loads its caches (on Citus: the cluster's metadata and the
    connections to its workers), up to twice a later round's time, which is not the steady state the budget is for.

    tenant None: a new tenant, onboarded inside the same transaction.
    """
    conn = connect(dsn)
    try:
        with own_transaction(conn):
            tenant = tenant or onboard(conn)
            with acting_as(conn, app_role, tenant["user_id"]):
                rounds = count()

                def one_round() -> list[float]:
                    n = next(rounds)
                    try:
                        return tenant_round(conn, phones[n % len(phones)], n % 10 == 0, tenant)
                    except psycopg.Error as exc:
                        errors.append(first_line(exc))
                        return []

                one_round()
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    latencies.extend(one_round())
    finally:
        conn.close()


def concurrent_load(dsn: str, admin: psycopg.Connection, app_role: str | None, tenants: int, seconds: float
                    ) -> Line:
    """Several tenants' backends at once for a fixed time: the admin tenant on its real data and new ones."""
    item = f"Concurrent load: {tenants} tenants writing and reading for {seconds:g} s"
    latencies: list[float] = []
    errors: list[str] = []
    with connect(dsn) as conn:
        phones = [r[1] for r in conn.execute(read_sql("acceptance/query_samples.sql"), {"user_id": 1, "n": 50})]
        first = {"user_id": 1, "chatbot_id": scalar(conn, "SELECT min(id) FROM public.chatbots WHERE user_id = 1")}
        phones = phones or [f"+1888{i:07d}" for i in range(50)]
        new = committed_tenants(conn, admin, tenants - 1) if is_citus(conn) else nullcontext([None] * (tenants - 1))
        with new as onboarded:
            workers = [threading.Thread(target=tenant_worker, args=(dsn, tenant, app_role, phones, seconds, latencies,
                                                                    errors)) for tenant in [first, *onboarded]]
            for w in workers:
                w.start()
            for w in workers:
                w.join()
    if not latencies:
        return {"section": "Performance", "check": item, "ok": False,
                "evidence": f"no operation completed; {errors[:1]}"}
    p95, p99 = percentile(latencies, 95), percentile(latencies, 99)
    ok = not errors and p95 < QUERY_BUDGET_MS * 2
    evidence = (f"{len(latencies):,} operations = {len(latencies) / seconds:,.0f} ops/s after a warm-up round each; "
                f"p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; "
                f"{len(errors)} errors" + (f" (first: {errors[0]})" if errors else ""))
    return {"section": "Performance", "check": item, "ok": ok, "evidence": evidence}
