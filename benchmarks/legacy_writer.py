"""A legacy backend writer for the benchmarks: the single-tenant app's write calls at a fixed rate.

Runs in its own process on one autocommit connection, like one backend worker: a call that blocks
delays the next ones, and slots missed while blocked are skipped, not replayed in a burst. Every call
is recorded (start time, latency, error) with the row it wrote, so that a benchmark can report the
latency and the longest stall, and check afterwards that every acknowledged write is still there.
The statements know nothing of user_id/chatbot_id, and the new-contact call is a plain INSERT with a
unique phone number (a legacy `ON CONFLICT (phone_number)` stops working after phase 5 by design).
"""

from __future__ import annotations

import multiprocessing as mp
import queue
import time
from collections import Counter
from dataclasses import dataclass
from multiprocessing.synchronize import Event

import psycopg

from tenant_migrate.acceptance.performance import percentile
from tenant_migrate.db import connection, one, scalar
from tenant_migrate.errors import first_line

ORDER_STATUSES = ("confirmed", "shipped", "delivered")

# Each check counts the rows of the table that still hold the acknowledged (id, value) pairs.
ROW_CHECKS = {
    "contacts": "SELECT count(*) FROM contacts AS t JOIN unnest(%s::int[], %s::text[]) AS w (id, v) "
                "ON t.id = w.id AND t.phone_number = w.v",
    "messages": "SELECT count(*) FROM messages AS t JOIN unnest(%s::int[], %s::text[]) AS w (id, v) "
                "ON t.id = w.id AND t.message_id = w.v",
    "orders": "SELECT count(*) FROM orders AS t JOIN unnest(%s::int[], %s::text[]) AS w (id, v) "
              "ON t.id = w.id AND t.order_details ->> 'ref' = w.v",
    "contacts.name": "SELECT count(*) FROM contacts AS t JOIN unnest(%s::int[], %s::text[]) AS w (id, v) "
                     "ON t.id = w.id AND t.name = w.v",
    "orders.status": "SELECT count(*) FROM orders AS t JOIN unnest(%s::int[], %s::text[]) AS w (id, v) "
                     "ON t.id = w.id AND t.status = w.v",
}


@dataclass(frozen=True)
class Op:
    """One legacy call: `check` names the ROW_CHECKS entry its written (row_id, value) belongs to."""

    kind: str
    at: float  # wall-clock start, time.time()
    latency: float  # seconds
    error: str | None
    check: str
    row_id: int | None
    value: str


def _call(conn: psycopg.Connection, n: int, contacts: int, orders: int) -> tuple[str, str, int, str]:
    """Legacy call number n: (kind, check, row id, value written)."""
    contact = 1 + n * 7 % contacts
    kind = n % 6
    if kind == 0:
        phone = f"+1888{n:08d}"
        row_id = scalar(conn, "INSERT INTO contacts (phone_number, thread_id) VALUES (%s, %s) RETURNING id",
                        (phone, f"bench-thread-{n}"))
        return "new contact", "contacts", row_id, phone
    if kind in (1, 2):
        direction, status = ("incoming", "delivered") if kind == 1 else ("outgoing", "sent")
        wamid = f"wamid.bench.{n}"
        row_id = scalar(conn, "INSERT INTO messages (contact_id, message_id, direction, message_type, content_text, "
                        "content_url, status, sent_at) VALUES (%s, %s, %s, 'text', 'hola 👋', NULL, %s, NOW()) "
                        "RETURNING id", (contact, wamid, direction, status))
        return f"{direction} message", "messages", row_id, wamid
    if kind == 3:
        ref = f"bench-order-{n}"
        row_id = scalar(conn, "INSERT INTO orders (contact_id, order_details, status) VALUES (%s, "
                        "jsonb_build_object('items', '[]'::jsonb, 'ref', %s::text), 'pending') RETURNING id",
                        (contact, ref))
        return "order insert", "orders", row_id, ref
    if kind == 4:
        order, status = 1 + n * 7919 % orders, ORDER_STATUSES[n // 6 % 3]
        conn.execute("UPDATE orders SET status = %s, updated_at = NOW() WHERE id = %s", (status, order))
        return "order status", "orders.status", order, status
    name = f"Bench Contact {n}"
    conn.execute("UPDATE contacts SET name = %s, updated_at = NOW() WHERE id = %s", (name, contact))
    return "contact update", "contacts.name", contact, name


def write(dsn: str, rate: float, stop: Event, out: mp.Queue) -> None:
    """Process target: legacy calls at `rate` per second until `stop`, then the list of Op on `out`."""
    ops: list[Op] = []
    with psycopg.connect(dsn, autocommit=True, application_name="legacy-writer") as conn:
        contacts, orders = one(conn, "SELECT (SELECT max(id) FROM contacts), (SELECT max(id) FROM orders)")
        n, next_at = 0, time.monotonic()
        while not stop.is_set():
            n += 1
            at, started = time.time(), time.perf_counter()
            try:
                kind, check, row_id, value = _call(conn, n, contacts, orders)
                ops.append(Op(kind, at, time.perf_counter() - started, None, check, row_id, value))
            except psycopg.Error as exc:
                ops.append(Op(f"call {n % 6}", at, time.perf_counter() - started, first_line(exc), "", None, ""))
            next_at = max(next_at + 1 / rate, time.monotonic())
            time.sleep(max(0.0, next_at - time.monotonic()))
    out.put(ops)


def start(dsn: str, rate: float) -> tuple[mp.Process, Event, mp.Queue]:
    stop = mp.Event()
    out: mp.Queue[list[Op]] = mp.Queue()
    process = mp.Process(target=write, args=(dsn, rate, stop, out), daemon=True)
    process.start()
    return process, stop, out


def finish(writer: tuple[mp.Process, Event, mp.Queue]) -> list[Op]:
    """Stop the writer and return its calls (read before join: a full queue would block its exit)."""
    process, stop, out = writer
    stop.set()
    while True:
        try:
            ops = out.get(timeout=1)
            break
        except queue.Empty:
            if not process.is_alive():
                raise RuntimeError(f"the legacy writer died (exit code {process.exitcode})") from None
    process.join()
    return ops


def summarize(ops: list[Op], start: float, end: float) -> dict:
    """Latency and failures of the calls started in [start, end]; the longest stall in that window.

    The stall is the longest gap in which no call completed, counting from `start` to the first
    completion and from the last completion to `end` (so a writer blocked to the end is seen).
    """
    window = [o for o in ops if start <= o.at <= end]
    latencies = [o.latency * 1000 for o in window]
    done = sorted([start, end, *(o.at + o.latency for o in window if o.error is None and o.at + o.latency <= end)])
    gaps = [(b - a, a) for a, b in zip(done, done[1:], strict=False)]
    stall, stall_at = max(gaps, default=(0.0, start))
    failed = [o for o in window if o.error]
    return {
        "attempted": len(window),
        "succeeded": len(window) - len(failed),
        "failed": len(failed),
        "errors": dict(Counter(o.error for o in failed).most_common(5)),
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies, default=0.0), 1),
        "longest_stall_ms": round(stall * 1000, 1),
        "longest_stall_at_s": round(stall_at - start, 2),
    }


def lost_rows(dsn: str, ops: list[Op]) -> dict[str, int]:
    """Acknowledged writes not found afterwards, per check (inserted rows; last value of updated rows)."""
    latest: dict[str, dict[int, str]] = {name: {} for name in ROW_CHECKS}
    for o in ops:
        if o.error is None and o.row_id is not None:
            latest[o.check][o.row_id] = o.value
    lost = {}
    with connection(dsn) as conn:
        for name, rows in latest.items():
            found = scalar(conn, ROW_CHECKS[name], (list(rows), list(rows.values())))
            lost[name] = len(rows) - found
    return {"checked": sum(len(r) for r in latest.values()), "lost": sum(lost.values()), "by_check": lost}
