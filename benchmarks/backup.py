"""Benchmark: our verified backup against a raw pg_dump of the same database, in the same run.

Builds the legacy demo database at --scale on --server (default: the embedded server), or uses --dsn, then times:
raw `pg_dump -Fc`; our backup with one job (custom format, manifest with exact row counts in the
dump's snapshot, sha256 of the file, verify = sha256 again + pg_restore --list); raw
`pg_dump -Fd -j N`; our backup with --jobs N. Prints time, size and our overhead per variant.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tenant_migrate import demo, embedded
from tenant_migrate.backup import dump, restore, store, tools
from tenant_migrate.db import connection, row_counts
from tenant_migrate.dsn import tool_env, with_database


def raw_pg_dump(dsn: str, target: Path, jobs: int) -> tuple[float, int]:
    conninfo, env = tool_env(dsn)
    fmt = ["-Fc"] if jobs == 1 else ["-Fd", "-j", str(jobs)]
    started = time.perf_counter()
    subprocess.run([tools.find_pg_dump()["path"], *fmt, "-f", str(target), f"--dbname={conninfo}"], env=env, check=True)
    return time.perf_counter() - started, store.size(target)


Row = tuple[str, float, int, float | None]  # variant, seconds, bytes, overhead in percent


def variant(dsn: str, work: Path, jobs: int, repeat: int, verify_restore: bool) -> list[Row]:
    """Raw pg_dump and ours with `jobs` jobs, `repeat` times interleaved (load from elsewhere hits both alike)."""
    fmt = "custom -Fc" if jobs == 1 else f"directory -j {jobs}"
    raw_t, ours_t, verify_t, counts_t = [], [], [], []
    for i in range(repeat):
        raw = work / f"raw-j{jobs}-{i}"
        raw_s, raw_b = raw_pg_dump(dsn, raw, jobs)
        raw_t.append(raw_s)
        started = time.perf_counter()
        manifest = dump.backup(dsn, phase=None, backup_dir=work, jobs=jobs, label=f"bench-j{jobs}")
        ours_t.append(time.perf_counter() - started)
        started = time.perf_counter()
        dump.verify(manifest["path"])
        verify_t.append(time.perf_counter() - started)
        with connection(dsn) as conn:
            started = time.perf_counter()
            row_counts(conn)
            counts_t.append(time.perf_counter() - started)
        shutil.rmtree(raw) if raw.is_dir() else raw.unlink()
    raw_s, ours_s = statistics.median(raw_t), statistics.median(ours_t)
    rows: list[Row] = [
        (f"raw pg_dump, {fmt}", raw_s, raw_b, None),
        (f"tenant-migrate backup + verify, {fmt}", ours_s, manifest["size_bytes"], (ours_s - raw_s) / raw_s * 100),
        ("  of which: exact row counts", statistics.median(counts_t), 0, None),
        ("  of which: verify (sha256 + pg_restore --list)", statistics.median(verify_t), 0, None)]
    if verify_restore:
        started = time.perf_counter()
        restore.verify_restore(dsn, manifest["path"], jobs=jobs)
        rows.append((f"verify_restore (scratch DB), {fmt}", time.perf_counter() - started, 0, None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0, help="demo data scale (1 = 100k messages)")
    parser.add_argument("--jobs", type=int, default=2, help="jobs of the directory-format variant")
    parser.add_argument("--dsn", help="benchmark this existing database instead of building one")
    parser.add_argument("--server", help="maintenance DSN of the server to build it on (default: the embedded one)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each variant (the median is shown)")
    parser.add_argument("--verify-restore", action="store_true", help="also time a test restore into a scratch DB")
    args = parser.parse_args()

    server = "" if args.dsn else args.server or embedded.start()
    name = f"bench_backup_{int(time.time())}"
    root = store.backup_root()
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".bench-", dir=root))  # git-ignored
    try:
        dsn = args.dsn
        if not dsn:
            started = time.perf_counter()
            load = demo.load(demo.create_database(server, name), args.scale)
            dsn = with_database(server, name)
            print(f"demo database at scale {args.scale}: {sum(load['row_counts'].values()):,} rows, "
                  f"loaded in {time.perf_counter() - started:.1f} s")
        print(f"database size {dump.ensure_backup_possible(dsn, work)['database_size_bytes'] / 1e6:,.0f} MB; "
              f"{tools.find_pg_dump()['version']}")
        rows = [row for jobs in (1, args.jobs) for row in variant(dsn, work, jobs, args.repeat, args.verify_restore)]
        print(f"\nmedian of {args.repeat} interleaved runs each")
        print(f"{'variant':<52}{'seconds':>10}{'size MB':>10}{'overhead':>10}")
        for label, seconds, size, overhead in rows:
            extra = f"{overhead:+.0f}%" if overhead is not None else ""
            size_text = f"{size / 1e6:.1f}" if size else ""
            print(f"{label:<52}{seconds:>10.2f}{size_text:>10}{extra:>10}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not args.dsn:
            demo.drop_database(server, name)


if __name__ == "__main__":
    main()
