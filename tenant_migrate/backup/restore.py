"""Restoring a backup: in place (the emergency rollback), into a new database, or into a scratch database to
prove that it restores."""

from __future__ import annotations

import contextlib
import json
import logging
import re
import secrets
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql

from tenant_migrate import ledger, ownership
from tenant_migrate.backup.dump import verify
from tenant_migrate.backup.store import RESTORES, archive, now, read_manifest, record, resolve
from tenant_migrate.backup.tools import pg_restore_for, script_for_server, sibling, tool_error
from tenant_migrate.db import (
    LEGACY_TABLES,
    TOOL_APPLICATION_NAME,
    cluster_id,
    connection,
    drop_database,
    row_counts,
    table_rows,
)
from tenant_migrate.dsn import database_name, describe, tool_env, with_database
from tenant_migrate.errors import BackupError, MigrationError, RestoreRefused, RestoreUnconfirmed, first_line
from tenant_migrate.lock import migration_lock
from tenant_migrate.paths import read_sql
from tenant_migrate.pooler import require_session
from tenant_migrate.private import write_private

log = logging.getLogger("tenant_migrate.backup")


def create_database(conn: psycopg.Connection, name: str, manifest: dict[str, Any]) -> None:
    query = sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
    if manifest.get("encoding"):
        query = sql.SQL("{} ENCODING {} LC_COLLATE {} LC_CTYPE {}").format(
            query, sql.Literal(manifest["encoding"]), sql.Literal(manifest["lc_collate"]),
            sql.Literal(manifest["lc_ctype"]))
    try:
        conn.execute(query)
    except psycopg.Error as exc:
        raise MigrationError(f"cannot create database {name!r}: {first_line(exc)}") from None


def pg_restore_into(dsn: str, path: Path, *, jobs: int = 1, exact: bool = True) -> None:
    """pg_restore the archive into the (new, empty) database of `dsn`; stop at the first error.
    `exact=False` (scratch restores) skips ownership and grants, so any role that can create a
    database can test-restore."""
    manifest = read_manifest(path)
    with connection(dsn) as conn:
        if conn.info.server_version < 170000:
            # pg_restore 17+ sends `SET transaction_timeout` even to older servers, which reject it: its script
            # goes through psql instead, without that line (script_for_server)
            _replay_script(dsn, path, manifest, [], exact=exact)
            return
    conninfo, env = tool_env(dsn, TOOL_APPLICATION_NAME)
    args = [pg_restore_for(manifest), "--exit-on-error", "--no-password", f"--dbname={conninfo}"]
    args += ["-j", str(jobs)] if jobs > 1 else ["--single-transaction"]
    if not exact:
        args += ["--no-owner", "--no-privileges"]
    result = subprocess.run([*args, str(archive(path))], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise MigrationError(f"pg_restore of {path.name} into {describe(dsn)} failed: "
                             f"{tool_error('pg_restore', result.stderr, dsn)}")


def verify_restore(dsn: str, path: str | Path, *, jobs: int = 1) -> dict[str, Any]:
    """Restore the backup into a scratch database `<db>_verify_<random>` on the server of `dsn`,
    compare its row counts with the manifest, and always drop the scratch database."""
    path = resolve(path)
    manifest = read_manifest(path)
    verify(path)
    scratch = f"{manifest.get('dbname') or database_name(dsn)}"[:40] + f"_verify_{secrets.token_hex(4)}"
    scratch_dsn = with_database(dsn, scratch)
    t0 = time.perf_counter()
    with connection(dsn) as admin:
        create_database(admin, scratch, manifest)
        try:
            log.info("restoring %s into scratch database %s", path.name, scratch)
            pg_restore_into(scratch_dsn, path, jobs=jobs, exact=False)
            with connection(scratch_dsn) as conn:
                counts = row_counts(conn, LEGACY_TABLES)
        finally:
            drop_database(admin, scratch)
    if counts != manifest["row_counts"]:
        diff = ", ".join(f"{t} {manifest['row_counts'].get(t)} -> {counts.get(t)}"
                         for t in sorted(set(counts) | set(manifest["row_counts"]))
                         if counts.get(t) != manifest["row_counts"].get(t))
        raise BackupError(f"backup {path.name} restores different row counts than its manifest: {diff}")
    seconds = round(time.perf_counter() - t0, 3)
    state = record(path, restore_verified_at=now(), restore_seconds=seconds)
    log.info("backup %s restores cleanly (%s rows match the manifest) in %.1f s", path.name,
             f"{sum(counts.values()):,}", seconds)
    return {"path": str(path), "scratch_database": scratch, "row_counts": counts, "seconds": seconds, **state}


def rows_since_backup(conn: psycopg.Connection, manifest: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per table the in-place restore replaces (those of public, tenant_migrate and the backup's schemas): rows in
    the backup, rows now, and the difference (what the restore loses). A backup whose manifest predates
    `table_rows` is compared on the legacy tables only."""
    if "table_rows" in manifest:
        then = manifest["table_rows"]
        schemas = sorted({"public", "tenant_migrate", *(t.split(".")[0] for t in then if "." in t)})
        current = table_rows(conn, schemas)
    else:
        then, current = manifest.get("row_counts") or {}, row_counts(conn, LEGACY_TABLES)
    return {t: {"backup": then.get(t, 0), "current": current.get(t, 0),
                "since_backup": current.get(t, 0) - then.get(t, 0)} for t in sorted(current.keys() | then.keys())}


def check_target(conn: psycopg.Connection, dsn: str, path: Path, manifest: dict[str, Any],
                 confirm_target: str | None) -> None:
    """An in-place restore goes into the database the backup was taken of (same name, same cluster), unless the
    operator names the other target database with `confirm_target`."""
    here, source = (conn.info.dbname, cluster_id(conn)), (manifest.get("dbname"), manifest.get("system_identifier"))
    if confirm_target is not None and confirm_target != here[0]:
        raise RestoreRefused(f"--confirm-target names {confirm_target!r}, but the target is {describe(dsn)}: "
                             f"name the database that the restore replaces ({here[0]!r})")
    if (here == source and here[1]) or confirm_target == here[0]:
        return
    cluster = f"cluster {source[1]}" if source[1] else "a cluster it does not record"
    raise RestoreRefused(f"backup {path.name} was taken of database {source[0]!r} ({manifest.get('database')}, "
                         f"{cluster}), not of {describe(dsn)} (cluster {here[1] or 'this role cannot identify'}): to "
                         f"replace {here[0]!r} with it all the same, add --confirm-target {here[0]}")


def check_copy_server(source: str, server: str, *, allow_same_cluster: bool) -> None:
    """A rehearsal copy of `source` goes onto another cluster (a staging server) unless explicitly allowed: a full
    copy beside production doubles its disk and its load."""
    with connection(source) as a, connection(server) as b:
        require_session(a, source)
        require_session(b, server)
        same = cluster_id(a) == cluster_id(b)  # two unknown identifiers count as the same: the safe side
    if same and not allow_same_cluster:
        raise RestoreRefused(f"the copy would go onto the cluster of {describe(source)} itself ({describe(server)} is "
                             "on the same server): give the dry run a staging server (staging: a DSN or a Prefect "
                             "Secret block), or allow it explicitly (allow_same_cluster, --allow-same-cluster)")


def check_ledger_record(conn: psycopg.Connection, path: Path, manifest: dict[str, Any]) -> None:
    """The manifest's sha256 equals what the ledger recorded for this backup when a phase run used it: a
    backup whose archive and manifest were both replaced since is refused."""
    if not ledger.exists(conn):
        return
    for run_id, recorded in conn.execute(read_sql("backup/ledger_backup.sql"), {"name": path.name}).fetchall():
        if recorded and recorded != manifest.get("sha256"):
            raise RestoreRefused(f"backup {path.name} is not the one the ledger recorded: run {run_id} noted sha256 "
                                 f"{recorded[:16]}..., its manifest says {str(manifest.get('sha256'))[:16]}...: "
                                 "it was changed since it was taken; restore another backup")


def _schemas_in_archive(pg_restore: str, archive: Path) -> list[str]:
    listing = subprocess.run([pg_restore, "--list", str(archive)], capture_output=True, text=True, check=True)
    found = []
    for line in listing.stdout.splitlines():
        match = re.match(r"^\d+; \d+ \d+ SCHEMA - (\S+) ", line)
        if match:
            found.append(match.group(1))
    return found


def _restore_in_place(dsn: str, path: Path, manifest: dict[str, Any]) -> None:
    """Replace the schemas of the backup in `dsn` atomically: one psql transaction that drops
    public, tenant_migrate and every schema of the archive, recreates public with its current
    owner, grants and comment, then runs the archive's script (pg_restore --single-transaction -f -).
    Any error, or an archive that ends early, rolls everything back."""
    pg_restore = pg_restore_for(manifest)
    with connection(dsn) as conn:
        public_state = [r[0] for r in conn.execute(read_sql("backup/public_schema_state.sql"))]
    schemas = list(dict.fromkeys(["tenant_migrate", *_schemas_in_archive(pg_restore, archive(path)), "public"]))
    preamble = ["SET lock_timeout = '30s';"]
    preamble += [f"DROP SCHEMA IF EXISTS {sql.Identifier(s).as_string()} CASCADE;" for s in schemas]
    preamble += ["CREATE SCHEMA public;", *(f"{s};" for s in public_state)]
    _replay_script(dsn, path, manifest, preamble)


def _replay_script(dsn: str, path: Path, manifest: dict[str, Any], preamble: list[str], *,
                   exact: bool = True) -> None:
    """Run `preamble` and the archive's SQL script (pg_restore --single-transaction -f -) through psql
    in one transaction: any error, or a script that ends before its COMMIT, rolls it all back."""
    pg_restore = pg_restore_for(manifest)
    psql = sibling(pg_restore, "psql")
    with connection(dsn) as conn:
        server = conn.info.server_version
    conninfo, env = tool_env(dsn, TOOL_APPLICATION_NAME)
    options = [] if exact else ["--no-owner", "--no-privileges"]
    with tempfile.TemporaryFile() as err:
        psql_proc = subprocess.Popen([psql, "--no-psqlrc", "--quiet", "--no-password", f"--dbname={conninfo}"],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        script = subprocess.Popen([pg_restore, "--single-transaction", "--exit-on-error", *options, "-f", "-",
                                   str(archive(path))], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        script_out, script_err, psql_in = _pipe(script.stdout), _pipe(script.stderr), _pipe(psql_proc.stdin)
        stderr_chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: stderr_chunks.append(script_err.read()), daemon=True)
        reader.start()
        try:
            psql_in.write(("\n".join(["\\set ON_ERROR_STOP on", "BEGIN;", *preamble]) + "\n").encode())
            psql_in.writelines(script_for_server(script_out, server))
        except BrokenPipeError:
            pass  # psql stopped at an error: its stderr says which
        finally:
            script_out.close()
            with contextlib.suppress(BrokenPipeError):
                psql_in.close()  # a script that ended before its COMMIT rolls back here
        script.wait()
        reader.join()
        script_err.close()
        psql_proc.wait()
        err.seek(0)
        psql_err = err.read().decode(errors="replace")
    if psql_proc.returncode != 0:
        raise MigrationError(f"restore of {path.name} into {describe(dsn)} rolled back, nothing changed: "
                             f"{tool_error('psql', psql_err, dsn)}")
    if script.returncode != 0:
        raise MigrationError(f"restore of {path.name} rolled back, nothing changed: pg_restore failed: "
                             f"{tool_error('pg_restore', b''.join(stderr_chunks).decode(errors='replace'), dsn)}")


def _pipe(stream: IO[bytes] | None) -> IO[bytes]:
    """A pipe of a process started with PIPE (always there)."""
    if stream is None:
        raise MigrationError("a pipe to a PostgreSQL tool is missing")
    return stream


def restore(path: str | Path, dsn: str, *, yes: bool, new_database: str | None = None,
            backup_dir: str | Path | None = None, confirm_target: str | None = None) -> dict[str, Any]:
    """The emergency rollback: put the database back as it was when the backup was taken.

    First verifies the backup (its files against its manifest, its manifest against the ledger's record of
    it) and reports, per table it replaces, the rows written since the backup (current count minus the
    manifest's: what the restore loses; updates and deletes since then are undone too). Without `yes`
    it raises RestoreUnconfirmed saying so and touches nothing.

    With `new_database`, the backup is restored into that new database (created on the server of
    `dsn`, which must not exist); the original is left untouched. Otherwise the restore is in place,
    under the migration's advisory lock (refused while a migration runs or waits at a gate), only into
    the database and cluster the backup was taken of unless `confirm_target` names the other database;
    and exact for what the migration touches: in ONE transaction the schemas public,
    tenant_migrate and every schema in the archive are dropped, public is recreated with its
    current owner, grants and comment, and the archive is replayed; any error rolls it all back
    and the database is as it was. Objects outside those schemas (other schemas, roles, database
    settings) are left alone. We do not use `pg_restore --clean`: it drops only objects that are in
    the archive, so tables a phase created after the backup (and foreign keys from them) would
    survive or make the drops fail halfway. The ledger (tenant_migrate) returns to its state at
    backup time; each restore is appended to the backup's restores.jsonl.
    """
    path = resolve(path, backup_dir)
    manifest = read_manifest(path)
    if new_database:
        return _restore_beside(path, manifest, dsn, new_database, yes=yes)
    with migration_lock(dsn, purpose=f"restore {path.name} into") as conn:
        check_target(conn, dsn, path, manifest, confirm_target)
        check_ledger_record(conn, path, manifest)
        changes = rows_since_backup(conn, manifest)
        written = {t: c["since_backup"] for t, c in changes.items() if c["since_backup"] > 0}
        lost = sum(written.values())
        detail = ", ".join(f"{t} {n:+,}" for t, n in written.items())
        verify(path)
        if not yes:
            raise RestoreUnconfirmed(
                f"restore of {path.name} would replace {describe(dsn)} with its state at "
                f"{manifest.get('finished_at', '?')}: {lost:,} rows written since then would be lost"
                f"{f' ({detail})' if detail else ''}, and every change since: re-run with --yes to do it",
                rows_lost=written)
        log.warning("restoring %s into %s in place; %s rows written since the backup are lost", path.name,
                    describe(dsn), f"{lost:,}")
        t0 = time.perf_counter()
        _restore_in_place(dsn, path, manifest)
        return _restored(path, dsn, {"in_place": True, "rows_since_backup": changes, "rows_lost": lost}, t0)


def _restore_beside(path: Path, manifest: dict[str, Any], dsn: str, new_database: str, *, yes: bool) -> dict[str, Any]:
    """Restore into a new database on the server of `dsn`; the database of `dsn` is left alone."""
    with connection(dsn) as admin:
        require_session(admin, dsn)
        if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (new_database,)).fetchone():
            raise RestoreRefused(f"database {new_database!r} already exists on {describe(dsn)}: "
                                 "choose another --new-database or drop it first")
        check_ledger_record(admin, path, manifest)
        verify(path)
        if not yes:
            raise RestoreUnconfirmed(f"restore of {path.name} would create database {new_database!r} on "
                                     f"{describe(dsn)}: re-run with --yes to do it", rows_lost={})
        t0 = time.perf_counter()
        target = with_database(dsn, new_database)
        create_database(admin, new_database, manifest)
        try:
            pg_restore_into(target, path, jobs=max(1, int(manifest.get("jobs") or 1)))
        except BaseException:
            drop_database(admin, new_database)
            raise
    return _restored(path, target, {"in_place": False, "rows_since_backup": {}, "rows_lost": 0}, t0)


def _restored(path: Path, target: str, summary: dict[str, Any], t0: float) -> dict[str, Any]:
    """After a restore: statistics, row counts, and a line in the backup's restores.jsonl."""
    with connection(target) as conn:
        if ledger.exists(conn):  # the restored objects have new oids: the ledger's identities follow them
            ownership.rebind(conn)
        conn.execute("ANALYZE")
        counts = row_counts(conn, LEGACY_TABLES)
    summary = {"backup": path.name, "database": describe(target), **summary, "row_counts": counts,
               "seconds": round(time.perf_counter() - t0, 3), "restored_at": now()}
    write_private(path / RESTORES, json.dumps(summary, default=str) + "\n", append=True)
    log.info("restored %s into %s in %.1f s", path.name, describe(target), summary["seconds"])
    return summary
