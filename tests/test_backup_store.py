"""tenant_migrate/backup/store.py: listing and pruning the backup folder."""

from __future__ import annotations

from tenant_migrate.backup import dump, store


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
