"""Backups before every phase, their verification, and the emergency restore, on a real PostgreSQL."""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path

import pytest
import typer
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from cli import backup as backup_commands
from tenant_migrate.backup import dump, restore, store
from tenant_migrate.db import connection, fingerprint, row_counts
from tenant_migrate.errors import MigrationError
from tenant_migrate.paths import read_sql

PASSWORD = "s3cret-Pa55word"  # the test servers trust local connections: any password is accepted


def _casts_and_parens_removed(definition: str) -> str:
    return re.sub(r"::[a-z ]+(\[\])?|[()]", "", definition)


def snapshot(dsn: str) -> tuple:
    """Fingerprint and row counts. PostgreSQL deparses a CHECK (varchar_col IN (...)) differently once
    it went through a dump and restore (`(ARRAY['a'::varchar])::text[]` becomes `ARRAY[('a'::varchar)::text]`,
    the same expression), so constraint definitions are compared without their casts and parentheses."""
    with connection(dsn) as conn:
        shape = [(kind, table, name, _casts_and_parens_removed(d) if kind == "constraint" else d)
                 for kind, table, name, d in fingerprint(conn)]
        return shape, row_counts(conn)


def scratch_databases(dsn: str) -> list[str]:
    with connection(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE '%\\_verify\\_%'")]


def nothing_in(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


@pytest.fixture
def backup_dir(tmp_path: Path) -> Path:
    return tmp_path / "backups"


# --- backup, manifest, restore ---------------------------------------------------------------


def test_backup_then_restore_in_place_gives_back_identical_data(legacy_db, backup_dir):
    before = snapshot(legacy_db)
    manifest = dump.backup(legacy_db, phase=1, backup_dir=backup_dir)
    path = Path(manifest["path"])
    assert path.parent == backup_dir.resolve() and path.name.endswith("-phase1")
    assert manifest["row_counts"] == before[1]
    assert manifest["format"] == "custom" and set(manifest["files"]) == {store.CUSTOM_FILE}
    assert manifest["sha256"] == store.sha256_of(path / store.CUSTOM_FILE)
    assert manifest["verification"]["verified_at"]
    on_disk = json.loads((path / "manifest.json").read_text())
    for key in ("phase", "database", "server_version", "pg_dump_version", "started_at", "finished_at",
                "size_bytes", "files", "row_counts", "ledger"):
        assert key in on_disk
    assert on_disk["ledger"] == []

    with connection(legacy_db) as conn:  # the disaster
        conn.execute("DROP TABLE messages CASCADE")
        conn.execute("DELETE FROM campaign_subscribers WHERE id % 2 = 0")
        conn.execute("ALTER TABLE contacts ADD COLUMN user_id integer")
    assert snapshot(legacy_db) != before

    result = restore.restore(path, legacy_db, yes=True)
    assert snapshot(legacy_db) == before
    assert result["row_counts"] == before[1]
    assert (path / store.RESTORES).read_text().count("\n") == 1
    with connection(legacy_db) as conn:  # sequences are back too: the next id follows the old data
        assert conn.execute("INSERT INTO contacts (phone_number) VALUES ('+15550009999') RETURNING id"
                            ).fetchone()[0] == before[1]["contacts"] + 1


def test_restore_in_place_removes_what_came_after_and_keeps_public_grants(legacy_db, backup_dir):
    before = snapshot(legacy_db)
    with connection(legacy_db) as conn:
        acl_before = conn.execute("SELECT nspowner::regrole::text, nspacl::text FROM pg_namespace "
                                  "WHERE nspname = 'public'").fetchone()
    path = dump.backup(legacy_db, phase=None, backup_dir=backup_dir)["path"]
    with connection(legacy_db) as conn:  # what a phase does after its backup: new tables referencing old ones
        conn.execute("CREATE TABLE chatbots (id serial PRIMARY KEY, contact_id integer REFERENCES contacts (id))")
        conn.execute("INSERT INTO chatbots (contact_id) VALUES (1)")
        conn.execute(read_sql("ledger/schema.sql"))
    restore.restore(path, legacy_db, yes=True)
    assert snapshot(legacy_db) == before
    with connection(legacy_db) as conn:
        assert conn.execute("SELECT to_regclass('public.chatbots'), to_regnamespace('tenant_migrate')"
                            ).fetchone() == (None, None)
        assert conn.execute("SELECT nspowner::regrole::text, nspacl::text FROM pg_namespace "
                            "WHERE nspname = 'public'").fetchone() == acl_before


def test_manifest_holds_the_ledger_state_and_counts_of_the_dump_snapshot(legacy_db, backup_dir):
    with connection(legacy_db) as conn:
        conn.execute(read_sql("ledger/schema.sql"))
        for status in ("failed", "applied"):
            conn.execute("INSERT INTO tenant_migrate.phase_runs (phase, name, direction, checksum, status) "
                         "VALUES (1, 'create_core_tables', 'up', 'abc', %s)", (status,))
    manifest = dump.backup(legacy_db, phase=2, backup_dir=backup_dir)
    assert [(r["phase"], r["status"]) for r in manifest["ledger"]] == [(1, "applied")]


def test_directory_format_with_jobs_and_progress(legacy_db, backup_dir):
    seen: list[int] = []
    manifest = dump.backup(legacy_db, phase=3, backup_dir=backup_dir, jobs=2, progress=seen.append,
                         progress_interval=0.01)
    path = Path(manifest["path"])
    assert manifest["format"] == "directory" and "dump/toc.dat" in manifest["files"]
    assert seen and seen[-1] == manifest["size_bytes"] == sum(f["bytes"] for f in manifest["files"].values())
    before = snapshot(legacy_db)
    with connection(legacy_db) as conn:
        conn.execute("TRUNCATE orders")
    restore.restore(path, legacy_db, yes=True)
    assert snapshot(legacy_db) == before


def test_restore_into_a_new_database_leaves_the_original_alone(legacy_db, pg_server, backup_dir):
    path = dump.backup(legacy_db, phase=1, backup_dir=backup_dir)["path"]
    with connection(legacy_db) as conn:
        conn.execute("DELETE FROM orders")
    changed = snapshot(legacy_db)
    name = f"tm_test_restored_{os.getpid()}"
    try:
        result = restore.restore(path, legacy_db, yes=True, new_database=name)
        assert result["row_counts"]["orders"] > 0
        assert snapshot(legacy_db) == changed
        with pytest.raises(MigrationError, match="already exists"):
            restore.restore(path, legacy_db, yes=True, new_database=name)
    finally:
        with connection(pg_server) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def test_restore_refuses_without_yes_and_changes_nothing(legacy_db, backup_dir):
    path = dump.backup(legacy_db, phase=1, backup_dir=backup_dir)["path"]
    with connection(legacy_db) as conn:
        conn.execute("INSERT INTO contacts (phone_number) SELECT '+1555' || g FROM generate_series(1000000, 1000041) g")
    before = snapshot(legacy_db)
    with pytest.raises(MigrationError, match=r"42 rows written since then would be lost \(contacts \+42\).*--yes"):
        restore.restore(path, legacy_db, yes=False)
    assert snapshot(legacy_db) == before
    assert not (Path(path) / store.RESTORES).exists()


# --- verification ----------------------------------------------------------------------------


@pytest.mark.parametrize("jobs, victim", [(1, store.CUSTOM_FILE), (2, "dump/toc.dat")])
def test_a_flipped_byte_fails_verification_naming_the_file(legacy_db, backup_dir, jobs, victim):
    path = Path(dump.backup(legacy_db, phase=1, backup_dir=backup_dir, jobs=jobs)["path"])
    data = bytearray((path / victim).read_bytes())
    data[len(data) // 2] ^= 0x01
    (path / victim).write_bytes(bytes(data))
    name = Path(victim).name
    with pytest.raises(MigrationError, match=f"backup {path.name} is corrupt: sha256 of {name} does not match"):
        dump.verify(path)
    assert [b["verified_at"] for b in store.list_backups(backup_dir)] == [None]
    before = snapshot(legacy_db)
    with pytest.raises(MigrationError, match="is corrupt"):  # and a restore of it touches nothing
        restore.restore(path, legacy_db, yes=True)
    assert snapshot(legacy_db) == before


def test_a_missing_file_fails_verification(legacy_db, backup_dir):
    path = Path(dump.backup(legacy_db, phase=1, backup_dir=backup_dir, jobs=2)["path"])
    victim = next(p for p in (path / "dump").iterdir() if p.name != "toc.dat")
    victim.unlink()
    with pytest.raises(MigrationError, match=f"is incomplete: dump/{victim.name} is missing"):
        dump.verify(path)


def test_verify_restore_compares_counts_and_always_drops_its_scratch_database(legacy_db, pg_server, backup_dir):
    path = Path(dump.backup(legacy_db, phase=1, backup_dir=backup_dir)["path"])
    result = restore.verify_restore(legacy_db, path)
    assert result["row_counts"] == store.read_manifest(path)["row_counts"]
    assert result["restore_verified_at"]
    assert scratch_databases(pg_server) == []
    # a manifest that disagrees with its archive: the check fails, and the scratch database still goes
    manifest = store.read_manifest(path)
    manifest["row_counts"]["messages"] += 1
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MigrationError, match="restores different row counts than its manifest: messages"):
        restore.verify_restore(legacy_db, path)
    assert scratch_databases(pg_server) == []


# --- preflight: bad input, nothing written -----------------------------------------------------


def test_missing_pg_dump_is_a_clear_error_and_writes_nothing(legacy_db, backup_dir, monkeypatch):
    with pytest.raises(MigrationError, match="^pg_dump not found: install"):
        dump.backup(legacy_db, phase=1, backup_dir=backup_dir, pg_dump_candidates=[])
    monkeypatch.setenv("PG_DUMP", "/nonexistent/pg_dump")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MigrationError, match="^PG_DUMP=/nonexistent/pg_dump is not an executable file"):
        dump.backup(legacy_db, phase=1, backup_dir=backup_dir)
    assert not backup_dir.exists()


def test_too_old_pg_dump_is_refused_and_writes_nothing(legacy_db, backup_dir, tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PG_DUMP", str(fake))
    with pytest.raises(MigrationError, match=r"pg_dump is version 9\.6, older than the server .*install pg_dump \d+"):
        dump.backup(legacy_db, phase=1, backup_dir=backup_dir)
    assert not backup_dir.exists()


def test_no_room_for_the_backup_is_refused_and_writes_nothing(legacy_db, backup_dir, monkeypatch):
    backup_dir.mkdir()
    monkeypatch.setenv(dump.FAKE_FREE_BYTES_ENV, "1000")
    with pytest.raises(MigrationError, match=r"^not enough disk for the backup in .*: 1000 B free, .* needed"):
        dump.backup(legacy_db, phase=1, backup_dir=backup_dir)
    assert nothing_in(backup_dir)
    with pytest.raises(MigrationError, match="not enough disk"):
        dump.preflight(legacy_db, backup_dir, free_bytes=0)


def test_backup_folder_that_cannot_be_created_is_refused(legacy_db, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(MigrationError, match="cannot be created: .*a-file is not a directory"):
        dump.backup(legacy_db, phase=1, backup_dir=blocker / "backups")
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_backup_folder_is_refused(legacy_db, backup_dir):
    backup_dir.mkdir()
    backup_dir.chmod(0o555)
    try:
        with pytest.raises(MigrationError, match="is not writable"):
            dump.backup(legacy_db, phase=1, backup_dir=backup_dir)
    finally:
        backup_dir.chmod(0o755)
    assert nothing_in(backup_dir)


def test_preflight_reports_what_it_checked(legacy_db, backup_dir):
    result = dump.preflight(legacy_db, backup_dir)
    assert result["free_bytes"] >= result["needed_bytes"] > 0
    assert Path(result["pg_restore"]).name == "pg_restore"
    assert not backup_dir.exists()  # a check creates nothing


# --- list and prune ----------------------------------------------------------------------------


def test_prune_keeps_the_newest_and_the_newest_verified(legacy_db, backup_dir):
    verified = dump.backup(legacy_db, phase=1, backup_dir=backup_dir)["name"]
    unverified = [dump.backup(legacy_db, phase=n, backup_dir=backup_dir, verify_after=False)["name"] for n in (2, 3, 4)]
    listed = store.list_backups(backup_dir)
    assert [b["name"] for b in listed] == [verified, *unverified]
    assert [bool(b["verified_at"]) for b in listed] == [True, False, False, False]
    assert store.prune(backup_dir, keep=1) == unverified[:2]
    assert [b["name"] for b in store.list_backups(backup_dir)] == [verified, unverified[2]]
    assert store.prune(backup_dir, keep=0) == [unverified[2]]
    assert [b["name"] for b in store.list_backups(backup_dir)] == [verified]


# --- command line ------------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    backup_commands.register(app)
    return app


def test_cli_backup_list_verify_restore_never_print_the_password(cli, legacy_db, backup_dir, caplog):
    caplog.set_level(logging.INFO, logger="tenant_migrate")
    dsn = make_conninfo(legacy_db, password=PASSWORD)
    runner = CliRunner()
    out = runner.invoke(cli, ["backup", "--dsn", dsn, "--backup-dir", str(backup_dir), "--phase", "1",
                              "--verify-restore", "--json"])
    assert out.exit_code == 0, out.output
    manifest = json.loads(out.stdout)
    path = Path(manifest["path"])
    listing = runner.invoke(cli, ["backups", "--backup-dir", str(backup_dir)])
    assert path.name in listing.output and "restore-verified" in listing.output
    verified = runner.invoke(cli, ["verify", path.name, "--backup-dir", str(backup_dir)])
    assert verified.exit_code == 0 and "verified" in verified.output
    refused = runner.invoke(cli, ["restore", str(path), "--dsn", dsn])
    assert refused.exit_code == 1
    assert refused.stderr.startswith("error: restore of ") and refused.stderr.count("\n") == 1, refused.stderr
    restored = runner.invoke(cli, ["restore", str(path), "--dsn", dsn, "--yes"])
    assert restored.exit_code == 0, restored.output
    everything = "".join(r.output for r in (out, listing, verified, refused, restored)) + caplog.text
    everything += "".join(p.read_text() for p in path.rglob("*.json*"))
    assert PASSWORD not in everything


@pytest.mark.parametrize("args, message", [
    (["backup", "--dsn", "postgresql://u:{pw}@127.0.0.1:1/nowhere"], "error: cannot connect to u@127.0.0.1:1/nowhere"),
    (["verify", "no-such-backup"], "error: no-such-backup is not a backup"),
    (["restore", "no-such-backup", "--dsn", "postgresql://u:{pw}@127.0.0.1:1/x", "--yes"],
     "error: no-such-backup is not a backup"),
    (["backup", "--dsn", "{legacy}", "--jobs", "1"], "error: not enough disk for the backup"),
])
def test_cli_bad_input_is_one_line_and_exit_1(cli, legacy_db, backup_dir, monkeypatch, args, message):
    monkeypatch.setenv(dump.FAKE_FREE_BYTES_ENV, "0")
    dsn = make_conninfo(legacy_db, password=PASSWORD)
    args = [a.format(pw=PASSWORD, legacy=dsn) for a in args] + ["--backup-dir", str(backup_dir)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert PASSWORD not in result.output
    assert nothing_in(backup_dir)


def test_in_place_restore_of_an_archive_that_ends_early_rolls_back(legacy_db, backup_dir):
    """Even past verification, the drops and the replay are one transaction: a truncated archive
    (pg_restore fails halfway through the data) leaves the database exactly as it was."""
    path = Path(dump.backup(legacy_db, phase=1, backup_dir=backup_dir)["path"])
    with connection(legacy_db) as conn:
        conn.execute("CREATE TABLE chatbots (id serial PRIMARY KEY, contact_id integer REFERENCES contacts (id))")
        conn.execute("DELETE FROM orders WHERE id % 3 = 0")
    before = snapshot(legacy_db)
    archive = path / store.CUSTOM_FILE
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size * 2 // 3])
    with pytest.raises(MigrationError, match="rolled back, nothing changed"):
        restore._restore_in_place(legacy_db, path, store.read_manifest(path))
    assert snapshot(legacy_db) == before
