"""What the app-statement check costs: at a gate (every statement prepared and planned once) and on demand
(`tenant-migrate compat`: a schema-only copy migrated phase by phase).

    .venv/bin/python benchmarks/compat.py [--scale 10] [--statements 500] [--repeat 3] [--server DSN] [--keep]

Loads the legacy demo at --scale into a scratch database (on --server, default the embedded server, which
loads pg_stat_statements), has an app role run --statements distinct statements (lookups, updates, inserts and
joins on the five legacy tables, varied so that pg_stat_statements keeps each apart), then measures, --repeat
times (median): reading them from pg_stat_statements; checking them all once (what each gate does twice:
before the phase and after it); and the whole on-demand check (copy, 8 phases, 9 checks, drop). Prints one line
per figure. The on-demand check should not grow with the data: it copies the schema only.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from psycopg import sql
from psycopg.conninfo import make_conninfo

from tenant_migrate import demo, embedded
from tenant_migrate.compat.prepare import check_all
from tenant_migrate.compat.scratch import run
from tenant_migrate.compat.statements import read
from tenant_migrate.db import connection
from tenant_migrate.dsn import describe, with_database

DATABASE = "tm_bench_compat"
ROLE = "tm_bench_compat_app"
# {n}: that many more `AND 1 < 2`, which pg_stat_statements tells apart (aliases and constants it does not)
SHAPES: list[tuple[str, tuple[object, ...]]] = [
    ("SELECT id, thread_id FROM contacts WHERE phone_number = %s{n}", ("+1",)),
    ("SELECT id, status FROM orders WHERE contact_id = %s{n} ORDER BY id DESC LIMIT 5", (1,)),
    ("UPDATE messages SET status = %s WHERE id = %s{n}", ("sent", 0)),
    ("SELECT c.name, count(m.id) FROM contacts c JOIN messages m ON m.contact_id = c.id WHERE c.id = %s{n} "
     "GROUP BY c.name", (1,)),
    ("INSERT INTO campaigns (name, message_template) SELECT %s, %s FROM contacts WHERE false{n} RETURNING id",
     ("c", "t")),
]


def record(dsn: str, count: int) -> None:
    """An app role runs `count` distinct statements once each."""
    with connection(dsn) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(ROLE)))
        conn.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {}").format(
            sql.Identifier(ROLE)))
        conn.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {}").format(sql.Identifier(ROLE)))
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    with connection(make_conninfo(dsn, user=ROLE)) as app:
        for n in range(count):
            shape, params = SHAPES[n % len(SHAPES)]
            app.execute(shape.replace("{n}", " AND 1 < 2" * (n // len(SHAPES))), params)


def median_s(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--statements", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", default=None, help="maintenance DSN of the server (default: the embedded one)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    server = args.server or embedded.start()
    dsn, loaded = demo.fresh(server, DATABASE, args.scale)
    try:
        record(dsn, args.statements)
        statements = read(dsn).statements
        print(f"{describe(dsn)}: scale {args.scale}, {sum(loaded['row_counts'].values()):,} rows, "
              f"{len(statements)} app statements recorded")
        print(f"read from pg_stat_statements: {median_s(lambda: read(dsn), args.repeat):.3f} s")
        check_s = median_s(lambda: check_all(dsn, statements), args.repeat)
        print(f"check all once (a gate does it twice): {check_s:.3f} s, "
              f"{1000 * check_s / max(1, len(statements)):.2f} ms a statement")
        print(f"on-demand check (schema-only copy, 8 phases, 9 checks): "
              f"{median_s(lambda: run(dsn), args.repeat):.1f} s")
    finally:
        if not args.keep:
            demo.drop_database(server, DATABASE)
            with connection(with_database(server, "postgres")) as conn:
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(ROLE)))


if __name__ == "__main__":
    main()
