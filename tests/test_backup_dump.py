"""tenant_migrate/backup/dump.py: the backup, its manifest, its verification, and the preflight that refuses
bad input before anything is written."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import snapshot

from tenant_migrate import ledger
from tenant_migrate.backup import dump, restore, store
from tenant_migrate.db import connection
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import BackupDamaged, BackupError, MigrationError


def nothing_in(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())



def test_manifest_holds_the_ledger_state_and_counts_of_the_dump_snapshot(legacy_db, backup_dir):
    with connection(legacy_db) as conn:
        ledger.ensure(conn)
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


@pytest.mark.parametrize("jobs, victim", [(1, store.CUSTOM_FILE), (2, "dump/toc.dat")])
def test_a_flipped_byte_fails_verification_naming_the_file(legacy_db, backup_dir, jobs, victim):
    path = Path(dump.backup(legacy_db, phase=1, backup_dir=backup_dir, jobs=jobs)["path"])
    data = bytearray((path / victim).read_bytes())
    data[len(data) // 2] ^= 0x01
    (path / victim).write_bytes(bytes(data))
    with pytest.raises(BackupDamaged) as damaged:
        dump.verify(path)
    assert victim == damaged.value.file
    assert [b["verified_at"] for b in store.list_backups(backup_dir)] == [None]
    before = snapshot(legacy_db)
    with pytest.raises(BackupDamaged):  # and a restore of it touches nothing
        restore.restore(path, legacy_db, yes=True)
    assert snapshot(legacy_db) == before


def test_a_missing_file_fails_verification(legacy_db, backup_dir):
    path = Path(dump.backup(legacy_db, phase=1, backup_dir=backup_dir, jobs=2)["path"])
    victim = next(p for p in (path / "dump").iterdir() if p.name != "toc.dat")
    victim.unlink()
    with pytest.raises(BackupDamaged) as damaged:
        dump.verify(path)
    assert f"dump/{victim.name}" == damaged.value.file


def test_missing_pg_dump_is_a_clear_error_and_writes_nothing(legacy_db, backup_dir, monkeypatch):
    with pytest.raises(BackupError, match="^pg_dump not found: install the PostgreSQL client tools"):
        dump.backup(legacy_db, phase=1, backup_dir=backup_dir, pg_dump_candidates=[])
    monkeypatch.setenv("PG_DUMP", "/nonexistent/pg_dump")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(BackupError, match="^PG_DUMP=/nonexistent/pg_dump is not an executable file"):
        dump.backup(legacy_db, phase=1, backup_dir=backup_dir)
    assert not backup_dir.exists()


def test_too_old_pg_dump_is_refused_and_writes_nothing(legacy_db, backup_dir, tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "pg_dump"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PG_DUMP", str(fake))
    with pytest.raises(BackupError, match=r"install pg_dump \d+ or newer"):
        dump.backup(legacy_db, phase=1, backup_dir=backup_dir)
    assert not backup_dir.exists()


def test_no_room_for_the_backup_is_refused_and_writes_nothing(legacy_db, backup_dir, monkeypatch):
    backup_dir.mkdir()
    monkeypatch.setenv(dump.FAKE_FREE_BYTES_ENV, "1000")
    with pytest.raises(BackupError, match="1000 B free"):
        dump.backup(legacy_db, phase=1, backup_dir=backup_dir)
    assert nothing_in(backup_dir)
    with pytest.raises(BackupError, match="^not enough disk"):
        dump.ensure_backup_possible(legacy_db, backup_dir, free_bytes=0)


def test_backup_folder_that_cannot_be_created_is_refused(legacy_db, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(BackupError, match="a-file is not a directory"):
        dump.backup(legacy_db, phase=1, backup_dir=blocker / "backups")
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_backup_folder_is_refused(legacy_db, backup_dir):
    backup_dir.mkdir()
    backup_dir.chmod(0o555)
    try:
        with pytest.raises(BackupError, match="is not writable"):
            dump.backup(legacy_db, phase=1, backup_dir=backup_dir)
    finally:
        backup_dir.chmod(0o755)
    assert nothing_in(backup_dir)


def test_preflight_reports_what_it_checked(legacy_db, backup_dir):
    result = dump.ensure_backup_possible(legacy_db, backup_dir)
    assert result["free_bytes"] >= result["needed_bytes"] > 0
    assert Path(result["pg_restore"]).name == "pg_restore"
    assert not backup_dir.exists()  # a check creates nothing


def modes(folder: Path) -> dict[str, int]:
    """The permission bits of a folder and of everything under it, by path relative to it."""
    return {str(p.relative_to(folder)): p.stat().st_mode & 0o777 for p in [folder, *folder.rglob("*")]}


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_backup_is_private_whatever_the_umask(legacy_db, backup_dir, jobs):
    """Folders 0700, files 0600 (archive, manifest, verified.json, restores.jsonl) under the most open umask."""
    old = os.umask(0)
    try:
        manifest = dump.backup(legacy_db, phase=1, backup_dir=backup_dir, jobs=jobs)
        restore.restore(manifest["path"], legacy_db, yes=True)
    finally:
        os.umask(old)
    found = modes(backup_dir)
    assert {"verified.json", "restores.jsonl", "manifest.json"} <= {Path(p).name for p in found}
    assert {p: 0o700 for p in found if (backup_dir / p).is_dir()} == {p: m for p, m in found.items()
                                                                       if (backup_dir / p).is_dir()}
    assert {p: 0o600 for p in found if (backup_dir / p).is_file()} == {p: m for p, m in found.items()
                                                                        if (backup_dir / p).is_file()}


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770])
def test_a_backup_folder_others_can_write_to_is_refused(legacy_db, backup_dir, mode):
    backup_dir.mkdir()
    os.chmod(backup_dir, mode)
    with pytest.raises(MigrationError, match=f"`chmod go-w {backup_dir}`"):
        dump.backup(legacy_db, phase=1, backup_dir=backup_dir)
    assert nothing_in(backup_dir)


def test_the_manifest_records_the_cluster_and_every_table(legacy_db, backup_dir):
    with connection(legacy_db) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.audit AS SELECT g AS id FROM generate_series(1, 7) AS g")
        cluster = conn.execute("SELECT system_identifier::text FROM pg_control_system()").fetchone()[0]
    manifest = dump.backup(legacy_db, phase=None, backup_dir=backup_dir)
    assert (cluster, database_name(legacy_db)) == (manifest["system_identifier"], manifest["dbname"])
    assert 7 == manifest["table_rows"]["app.audit"]
    assert {t: manifest["table_rows"][t] for t in manifest["row_counts"]} == manifest["row_counts"]
