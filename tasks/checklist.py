"""The plan's Phase 8 "Testing & Validation" checklist, every line measured on the migrated database.

Existing functionality runs through the backend contract with its legacy defaults, as the legacy
backend's role; new functionality and isolation as the application role, with a second tenant created
through the normal path; performance at the database's real size. All writes happen in transactions
that are rolled back, so the checklist leaves no rows behind (sequences do advance).
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

import backend_contract as bc
from tasks import runner
from tasks.db import MigrationError, connect, first_line, read_sql, row_counts

LAST_PLAN_PHASE = 7  # the plan's own phases; phase 8 (row-level security) is ours, and optional here
QUERY_BUDGET_MS = 100.0  # the plan: database queries under 100 ms
MESSAGE_BUDGET_MS = 2000.0  # the plan: message processing under 2 seconds
SMALL_TABLE_ROWS = 10_000  # below this a sequential scan is the planner's right choice
PERFORMANCE_QUERIES = {
    "contact by phone number": "query_contact_by_phone",
    "a contact's last 50 messages": "query_contact_messages",
    "a tenant's orders by status": "query_orders_by_status",
    "today's usage": "query_usage_today",
}
Line = dict[str, Any]


class Checks:
    """Collects the checklist's lines; each check runs in a savepoint so one failure spoils nothing else."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn, self.lines = conn, []

    def run(self, section: str, item: str, check: Callable[[], str]) -> None:
        try:
            with self.conn.transaction():
                evidence, ok = check(), True
        except Exception as exc:  # noqa: BLE001 - a failed check is a line of the report, not a crash
            evidence, ok = f"{type(exc).__name__}: {first_line(exc)}", False
        self.lines.append({"section": section, "check": item, "ok": ok, "evidence": evidence})


def row_level_security_on(conn: psycopg.Connection) -> bool:
    return bool(conn.execute("SELECT relrowsecurity FROM pg_class WHERE oid = 'public.contacts'::regclass"
                             ).fetchone()[0])


@contextmanager
def acting_as(conn: psycopg.Connection, role: str | None, user_id: int | None = None) -> Iterator[None]:
    """Run the block as an application role (None: the current one) with app.tenant_id set (None: unset).

    On an error the caller's savepoint rollback undoes both settings; on success they are undone here.
    """
    if role:
        conn.execute(f"SET ROLE {role}")
    conn.execute("SELECT set_config('app.tenant_id', %s, true)", ("" if user_id is None else str(user_id),))
    yield
    if role:
        conn.execute("RESET ROLE")


def ensure(condition: bool, problem: str) -> None:
    if not condition:
        raise AssertionError(problem)


def percentile(values: list[float], q: int) -> float:
    """The q-th percentile (inclusive method); the single value of a one-element list."""
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else (values or [0.0])[0]


def timing_text(ms: list[float]) -> str:
    return f"p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, 95):.1f} ms ({len(ms)} runs)"


def plan_nodes(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The scan nodes of the query's plan."""
    def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node.get("Plans", []):
            yield from walk(child)

    plan = conn.execute("EXPLAIN (FORMAT JSON) " + query, params).fetchone()[0][0]["Plan"]
    return [n for n in walk(plan) if n.get("Relation Name") or n.get("Index Name")]


def index_evidence(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> str:
    """How the planner reads each table of the query; fails if a big table is read without an index."""
    scans = plan_nodes(conn, query, params)
    seq = [n["Relation Name"] for n in scans if n["Node Type"] == "Seq Scan"]
    chosen = ", ".join(f"{n['Node Type']}{' using ' + n['Index Name'] if n.get('Index Name') else ''}"
                       f"{' on ' + n['Relation Name'] if n.get('Relation Name') else ''}" for n in scans)
    if not seq:
        return chosen
    conn.execute("SET enable_seqscan = off")
    forced = plan_nodes(conn, query, params)
    conn.execute("RESET enable_seqscan")
    for table in seq:
        rows = conn.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", (f"public.{table}",)
                            ).fetchone()[0]
        indexed = any(n.get("Index Name") for n in forced if n.get("Relation Name") in (table, None))
        ensure(indexed, f"no index serves this query on {table}: {chosen}")
        ensure(rows < SMALL_TABLE_ROWS, f"sequential scan of {table} ({rows:,.0f} rows): {chosen}")
    return f"{chosen} (small table; an index serves it when it grows)"


def timed(action: Callable[[], Any]) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def process_message(conn: psycopg.Connection, phone: str, **tenant: int) -> bc.Contact:
    """What the backend does for one WhatsApp message: contact, log it, load the thread, log the reply."""
    contact = bc.get_or_create_contact(conn, phone, **tenant)
    bc.log_message(conn, contact.id, "incoming", "what are your opening hours?", **tenant)
    bc.load_thread_id(conn, contact.id, user_id=tenant.get("user_id", bc.ADMIN_TENANT))
    bc.log_message(conn, contact.id, "outgoing", "9 to 5, every day", **tenant)
    return contact


def existing_functionality(checks: Checks, legacy_role: str | None) -> dict[str, Any]:
    """The plan's "Existing Functionality" lines, with the contract's legacy defaults (tenant 1)."""
    conn, section, phone = checks.conn, "Existing functionality", f"+1999{uuid.uuid4().int % 10**8:08d}"
    known = conn.execute("SELECT id, phone_number, thread_id FROM public.contacts WHERE thread_id IS NOT NULL "
                         "ORDER BY id LIMIT 1").fetchone()
    state: dict[str, Any] = {"admin_phone": known[1] if known else None}

    def receiving() -> str:
        with acting_as(conn, legacy_role):
            contact = bc.get_or_create_contact(conn, phone, "checklist")
            message = bc.log_message(conn, contact.id, "incoming", "hello")
        state["contact"] = contact.id
        return f"contact {contact.id} created, inbound message {message} logged"

    def responses() -> str:
        with acting_as(conn, legacy_role):
            ms = timed(lambda: process_message(conn, phone))
        return f"receive → log → reply logged in {ms:.1f} ms"

    def contacts() -> str:
        ensure(known is not None, "no contact with a thread id to look up")
        with acting_as(conn, legacy_role):
            found = bc.get_or_create_contact(conn, known[1])
            again = bc.get_or_create_contact(conn, phone)
        ensure(found.id == known[0] and not found.created, f"lookup of {known[1]} gave contact {found.id}")
        ensure(again.id == state["contact"], "a new contact was not found again by its phone number")
        return f"existing contact {known[0]} found by phone; new contact {again.id} found again"

    def orders() -> str:
        with acting_as(conn, legacy_role):
            order = bc.create_order(conn, state["contact"], {"items": ["checklist"]})
            bc.update_order_status(conn, order, "shipped")
            status = bc.order_status(conn, order)
        ensure(status == "shipped", f"order {order} reads back as {status}")
        return f"order {order} created, status pending → shipped"

    def campaigns() -> str:
        with acting_as(conn, legacy_role):
            campaign = bc.create_campaign(conn, "checklist campaign", "hello {name}")
            added = bc.add_subscriber(conn, campaign, state["contact"])
        ensure(added, "subscriber not added")
        return f"campaign {campaign} created, contact {state['contact']} subscribed"

    def threads() -> str:
        ensure(known is not None, "no contact with a thread id")
        with acting_as(conn, legacy_role):
            kept = bc.load_thread_id(conn, known[0])
            bc.save_thread_id(conn, state["contact"], f"thread-{phone}")
            saved = bc.load_thread_id(conn, state["contact"])
        ensure(kept == known[2], f"contact {known[0]} thread {kept!r}, expected {known[2]!r}")
        ensure(saved == f"thread-{phone}", f"saved thread reads back as {saved!r}")
        return f"contact {known[0]} keeps thread {known[2]}; a new thread saved and loaded"

    for item, check in (("WhatsApp message receiving works", receiving),
                        ("Message processing and responses work", responses),
                        ("Contact creation and management works", contacts),
                        ("Order creation and tracking works", orders),
                        ("Campaign management works", campaigns),
                        ("LangGraph conversation state maintained", threads)):
        checks.run(section, item, check)
    return state


def new_functionality(checks: Checks, rls: bool, admin_phone: str | None) -> None:
    """The plan's "New Functionality" lines, plus the database's own enforcement of isolation."""
    conn, section = checks.conn, "New functionality"
    app_role = "tenant_app" if rls else None
    tenant_b, bot_b = bc.create_tenant(conn, f"checklist-{uuid.uuid4().hex[:12]}@example.invalid",
                                       company_name="Checklist tenant B")
    b = {"user_id": tenant_b, "chatbot_id": bot_b}
    state: dict[str, Any] = {}

    def admin_sees_all() -> str:
        owner = row_counts(conn)
        with acting_as(conn, app_role, 1):
            seen = row_counts(conn)
        ensure(seen == owner, f"admin tenant sees {seen}, the tables hold {owner}")
        return "admin tenant sees every legacy row: " + ", ".join(f"{t} {n:,}" for t, n in seen.items())

    def second_tenant() -> str:
        ensure(admin_phone is not None, "no admin contact to share a phone number with")
        conn.execute(read_sql("checklist/sample_rows.sql"), {"user_id": 1, "chatbot_id": 1})
        with acting_as(conn, app_role, tenant_b):
            contact = bc.get_or_create_contact(conn, admin_phone, "same number, other tenant", **b)
            bc.log_message(conn, contact.id, "incoming", "hi", **b)
            order = bc.create_order(conn, contact.id, {"items": ["b"]}, **b)
            campaign = bc.create_campaign(conn, "b campaign", "hi", **b)
            bc.add_subscriber(conn, campaign, contact.id, user_id=tenant_b)
            conn.execute(read_sql("checklist/sample_rows.sql"), b)
        ensure(contact.created, f"tenant {tenant_b} did not get its own contact for {admin_phone}")
        state.update(contact=contact.id, order=order)
        return (f"tenant {tenant_b} created (users, subscription, chatbot {bot_b}); its contact {contact.id} has "
                f"the admin's phone number {admin_phone} without conflict")

    def isolation() -> str:
        ensure(rls, "row-level security (phase 8) is not applied: isolation rests on the application alone")
        ensure("contact" in state, "the second tenant's rows were not written")
        statements = conn.execute(read_sql("checklist/foreign_rows.sql"), {"user_id": tenant_b}).fetchall()
        with acting_as(conn, app_role, tenant_b):
            leaks = {t: conn.execute(s).fetchone() for t, s in statements}
            changed = conn.execute("UPDATE public.contacts SET name = 'leak' WHERE user_id = 1").rowcount
            try:
                with conn.transaction():
                    conn.execute("INSERT INTO public.contacts (phone_number, user_id, chatbot_id) VALUES ('+10', 1, 1)")
                refused = False
            except psycopg.errors.InsufficientPrivilege:
                refused = True
        empty = sorted(t for t, (_, own) in leaks.items() if not own)
        ensure(not empty, f"tenant {tenant_b} sees none of its own rows in {empty}")
        leaked = {t: n for t, (n, _) in leaks.items() if n}
        ensure(not leaked, f"tenant {tenant_b} sees other tenants' rows: {leaked}")
        ensure(changed == 0 and refused, f"tenant {tenant_b} changed {changed} admin rows / wrote as tenant 1")
        return (f"as tenant_app, tenant {tenant_b} sees 0 rows of other tenants in all {len(leaks)} tenant tables "
                "(and its own in each); its UPDATE of tenant 1's contacts hit 0 rows; writing as tenant 1 refused")

    def legacy_confined() -> str:
        ensure(rls, "row-level security (phase 8) is not applied")
        ensure("contact" in state, "no second tenant contact with the admin's phone number")
        with acting_as(conn, "tenant_legacy"):
            found = conn.execute("SELECT id FROM public.contacts WHERE phone_number = %s", (admin_phone,)).fetchall()
        ensure(len(found) == 1 and found[0][0] != state["contact"], f"legacy lookup returned {found}")
        return f"legacy lookup by phone alone returns the admin's contact {found[0][0]} only"

    def usage() -> str:
        with acting_as(conn, app_role, tenant_b):
            counts = [conn.execute(read_sql("checklist/usage_upsert.sql"), b).fetchone()[0] for _ in range(2)]
        ensure(counts[1] == counts[0] + 1, f"usage counter went {counts}")
        return f"today's usage row of tenant {tenant_b} counted {counts[0]} → {counts[1]} inbound messages"

    def analytics() -> str:
        with acting_as(conn, app_role, tenant_b):
            event = conn.execute(read_sql("checklist/analytics_event.sql"), {**b, "contact_id": state.get("contact")}
                                 ).fetchone()[0]
        return f"analytics event {event} captured for tenant {tenant_b}"

    def actions() -> str:
        with acting_as(conn, app_role, tenant_b):
            action = conn.execute(read_sql("checklist/action_request.sql"), {**b, "contact_id": state.get("contact")}
                                  ).fetchone()
        ensure(action is not None, "the action request was not stored as pending")
        return f"action {action[0]} requested (pending) for tenant {tenant_b}"

    for item, check in (("Admin user can access all features", admin_sees_all),
                        ("A second tenant is onboarded through the normal path", second_tenant),
                        ("Multi-tenant data isolation works (enforced by PostgreSQL)", isolation),
                        ("Legacy backend confined to the admin tenant", legacy_confined),
                        ("Usage tracking functions", usage),
                        ("Analytics events capture", analytics),
                        ("Actions Center ready for implementation", actions)):
        checks.run(section, item, check)


def query_performance(checks: Checks, app_role: str | None, samples: int) -> None:
    """The tenant-scoped queries of the admin tenant, which holds all the data: index used, p50/p95."""
    conn = checks.conn
    params = [{"user_id": 1, **dict(zip(("contact_id", "phone_number", "status"), row, strict=True))}
              for row in conn.execute(read_sql("checklist/query_samples.sql"), {"user_id": 1, "n": samples})]

    def measure(query_file: str) -> Callable[[], str]:
        def check() -> str:
            ensure(bool(params), "tenant 1 has no contacts to query")
            query = read_sql(f"checklist/{query_file}.sql")
            with acting_as(conn, app_role, 1):
                plan = index_evidence(conn, query, params[0])
                ms = [timed(lambda p=p: conn.execute(query, p).fetchall()) for p in params]
            ensure(percentile(ms, 95) < QUERY_BUDGET_MS, f"p95 {percentile(ms, 95):.1f} ms over {QUERY_BUDGET_MS} ms")
            return f"{timing_text(ms)}; {plan}"
        return check

    for item, query_file in PERFORMANCE_QUERIES.items():
        checks.run("Performance", f"Query under {QUERY_BUDGET_MS:.0f} ms: {item}", measure(query_file))

    def messages() -> str:
        ensure(bool(params), "tenant 1 has no contacts")
        with acting_as(conn, app_role, 1):
            ms = [timed(lambda p=p: process_message(conn, p["phone_number"])) for p in params[:20]]
        ensure(percentile(ms, 95) < MESSAGE_BUDGET_MS, f"p95 {percentile(ms, 95):.1f} ms")
        return f"receive → log → reply: {timing_text(ms)}"

    checks.run("Performance", f"Message processing under {MESSAGE_BUDGET_MS / 1000:.0f} seconds", messages)


def tenant_round(conn: psycopg.Connection, phone: str, with_order: bool, tenant: dict[str, int]) -> list[float]:
    """One round of a tenant's backend: a message processed, the contact's feed read, maybe an order."""
    start = time.perf_counter()
    contact = process_message(conn, phone, **tenant)
    ms = [(time.perf_counter() - start) * 1000]
    feed = read_sql("checklist/query_contact_messages.sql")
    ms.append(timed(lambda: conn.execute(feed, {"user_id": tenant["user_id"], "contact_id": contact.id}).fetchall()))
    if with_order:
        ms.append(timed(lambda: bc.create_order(conn, contact.id, {"items": ["load"]}, **tenant)))
    return ms


def tenant_worker(dsn: str, user_id: int | None, app_role: str | None, phones: list[str], seconds: float,
                  latencies: list[float], errors: list[str]) -> None:
    """One tenant's backend for `seconds`: messages in and out, feed reads, orders; all rolled back.

    user_id None: a new tenant, onboarded inside the same transaction.
    """
    conn = connect(dsn)
    try:
        with conn.transaction(force_rollback=True):
            if user_id is None:
                user_id, chatbot_id = bc.create_tenant(conn, f"load-{uuid.uuid4().hex[:12]}@example.invalid")
            else:
                chatbot_id = conn.execute("SELECT min(id) FROM public.chatbots WHERE user_id = %s",
                                          (user_id,)).fetchone()[0]
            tenant = {"user_id": user_id, "chatbot_id": chatbot_id}
            with acting_as(conn, app_role, user_id):
                deadline, n = time.monotonic() + seconds, 0
                while time.monotonic() < deadline:
                    try:
                        latencies.extend(tenant_round(conn, phones[n % len(phones)], n % 10 == 0, tenant))
                    except psycopg.Error as exc:
                        errors.append(first_line(exc))
                    n += 1
    finally:
        conn.close()


def concurrent_load(dsn: str, app_role: str | None, tenants: int, seconds: float) -> Line:
    """Several tenants' backends at once for a fixed time: the admin tenant on its real data and new ones."""
    item = f"Concurrent load: {tenants} tenants writing and reading for {seconds:g} s"
    latencies: list[float] = []
    errors: list[str] = []
    with connect(dsn) as conn:
        phones = [r[1] for r in conn.execute(read_sql("checklist/query_samples.sql"), {"user_id": 1, "n": 50})]
    phones = phones or [f"+1888{i:07d}" for i in range(50)]
    workers = [threading.Thread(target=tenant_worker, args=(dsn, 1 if i == 0 else None, app_role, phones, seconds,
                                                            latencies, errors)) for i in range(tenants)]
    start = time.monotonic()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - start
    if not latencies:
        return {"section": "Performance", "check": item, "ok": False,
                "evidence": f"no operation completed; {errors[:1]}"}
    p95, p99 = percentile(latencies, 95), percentile(latencies, 99)
    ok = not errors and p95 < QUERY_BUDGET_MS * 2
    evidence = (f"{len(latencies):,} operations in {elapsed:.1f} s = {len(latencies) / elapsed:,.0f} ops/s; "
                f"p50 {statistics.median(latencies):.1f} ms, p95 {p95:.1f} ms, p99 {p99:.1f} ms; "
                f"{len(errors)} errors" + (f" (first: {errors[0]})" if errors else ""))
    return {"section": "Performance", "check": item, "ok": ok, "evidence": evidence}


def run_checklist(dsn: str, *, samples: int = 30, load_tenants: int = 4, load_seconds: float = 5.0) -> list[Line]:
    """Every line of the plan's Phase 8 checklist, measured; nothing is left behind in the database."""
    conn = connect(dsn)
    try:
        if missing := [p.number for p in runner.pending_phases(conn, LAST_PLAN_PHASE)]:
            raise MigrationError(f"checklist: phases {missing} are not applied yet: run `tenant-migrate migrate` first")
        rls = row_level_security_on(conn)
        checks = Checks(conn)
        with conn.transaction(force_rollback=True):
            state = existing_functionality(checks, "tenant_legacy" if rls else None)
            new_functionality(checks, rls, state["admin_phone"])
        with conn.transaction(force_rollback=True):
            query_performance(checks, "tenant_app" if rls else None, samples)
    finally:
        conn.close()
    return [*checks.lines, concurrent_load(dsn, "tenant_app" if rls else None, load_tenants, load_seconds)]


def summary(lines: list[Line]) -> str:
    failed = [line for line in lines if not line["ok"]]
    if not failed:
        return f"checklist: all {len(lines)} lines pass: ready for customer onboarding"
    return (f"checklist: {len(failed)} of {len(lines)} lines failed; first: {failed[0]['check']}: "
            f"{failed[0]['evidence']}")
