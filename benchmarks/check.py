"""What the whole-plan check costs, and the share of it spent on the app's data (tenant_migrate.check.data and the
sample of tenant_migrate.check.soft_references).

    .venv/bin/python benchmarks/check.py [--scale 10] [--repeat 3] [--server DSN] [--keep]

Loads the legacy demo at --scale into a scratch database (on --server, default the embedded server), then times the
check (review, as `tenant-migrate check` and every migrate run start with) in three states, each --repeat times
(median, after one run that warms the cache), and its data checks alone, in turn with it:
1. the demo as loaded, every phase pending: the app's unique constraints on phone_number and thread_id guarantee the
   plan's per-tenant keys, so no table is scanned;
2. the same without them (a plain index on phone_number, no unique on thread_id): the duplicate searches scan
   contacts;
3. at phase 5's preflight (phases 1-4 applied the instant way): the tenant ids of the five tables are read in one
   scan each (NOT NULL, the composite references), beside state 2's duplicate searches.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tenant_migrate import demo, embedded  # noqa: E402
from tenant_migrate.check import data, soft_references  # noqa: E402
from tenant_migrate.check.review import review  # noqa: E402
from tenant_migrate.db import connection  # noqa: E402
from tenant_migrate.dsn import describe  # noqa: E402
from tenant_migrate.plan import Phase, default_target, load_plan  # noqa: E402
from tenant_migrate.runner import migrate  # noqa: E402

DATABASE = "tm_bench_check"


def seconds(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def measure(dsn: str, phases: list[Phase], repeat: int) -> tuple[float, float, int]:
    """(median seconds of the whole check, of its data checks, refusals) for `phases`; the two are taken in turn,
    after one unmeasured run that warms the cache."""
    numbers = {p.number for p in phases}
    with connection(dsn) as conn:
        refused = sum(f.verdict == "refuse" for f in review(conn, phases, "instant"))
        whole, rows = [], []
        for _ in range(repeat):
            whole.append(seconds(lambda: review(conn, phases, "instant")))
            rows.append(seconds(lambda: (data.conflicts(conn, numbers),
                                         soft_references.soft_references(conn, numbers, ()))))
    return statistics.median(whole), statistics.median(rows), refused


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=10.0, help="demo scale (10 = 100k contacts, 1M messages)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--server", help="DSN of a server to create the scratch database on (default: embedded)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    server = args.server or embedded.start()
    dsn, loaded = demo.fresh(server, DATABASE, args.scale)
    print(f"database {describe(dsn)}, scale {args.scale}: {loaded['row_counts']} "
          f"(loaded in {loaded['seconds']} s)", flush=True)
    plan = list(load_plan()[:default_target()])  # phase 9 needs a Citus cluster
    results = []
    try:
        results.append(("1 demo, every phase pending", *measure(dsn, plan, args.repeat)))
        with connection(dsn) as conn:
            conn.execute("ALTER TABLE contacts DROP CONSTRAINT contacts_phone_number_key, "
                         "DROP CONSTRAINT contacts_thread_id_key")
            conn.execute("CREATE INDEX contacts_phone_number_idx ON contacts (phone_number)")
            conn.execute("VACUUM ANALYZE contacts")
        results.append(("2 no app uniques, every phase pending", *measure(dsn, plan, args.repeat)))
        migrate(dsn, to=4)
        results.append(("3 no app uniques, phase 5 preflight", *measure(dsn, [plan[4]], args.repeat)))
    finally:
        if not args.keep:
            demo.drop_database(server, DATABASE)

    print(f"\nscale {args.scale}, median of {args.repeat}; data = the rows checked against the keys, NOT NULLs and "
          "references the plan adds, and the sample of the app's tables for soft references")
    print(f"{'state':<40} {'check s':>8} {'data s':>8} {'data share':>10} {'refusals':>9}")
    for state, whole, rows, refused in results:
        print(f"{state:<40} {whole:>8.3f} {rows:>8.3f} {100 * rows / whole:>9.0f}% {refused:>9}")


if __name__ == "__main__":
    main()
