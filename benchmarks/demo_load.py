"""Benchmark: load the legacy demo database at a given scale and print rows per second.

    .venv/bin/python benchmarks/demo_load.py [--scale 10] [--server DSN]
"""

from __future__ import annotations

import argparse
import time

from tenant_migrate import demo, embedded
from tenant_migrate.db import scratch_database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--server", help="maintenance DSN of the server to load on (default: the embedded one)")
    args = parser.parse_args()
    server = args.server or embedded.start()
    name = f"bench_demo_load_{int(time.time())}"
    with scratch_database(server, name) as dsn:
        result = demo.load(dsn, args.scale)
    rows = sum(result["row_counts"].values())
    print(f"scale {args.scale}: {rows:,} rows in {result['seconds']:.1f} s = {rows / result['seconds']:,.0f} rows/s")
    for table, n in result["row_counts"].items():
        print(f"  {table:<22}{n:>12,}")


if __name__ == "__main__":
    main()
