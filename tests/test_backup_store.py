"""tenant_migrate/backup/store.py: listing and pruning the backup folder: only this tool's backups, killed dumps
included, never a dump that is running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tenant_migrate import faults
from tenant_migrate.backup import dump, store
from tenant_migrate.errors import MigrationError


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


def killed_dump(legacy_db: str, backup_dir: Path) -> Path:
    """The `.partial` folder a dump leaves when its process is SIGKILLed after pg_dump finished."""
    code = ("import sys; from tenant_migrate.backup import dump; "
            "dump.backup(sys.argv[1], phase=1, backup_dir=sys.argv[2])")
    env = os.environ | {faults.KILL_AT_ENV: "backup:phase1:dumped"}
    killed = subprocess.run([sys.executable, "-c", code, legacy_db, str(backup_dir)], env=env, capture_output=True)
    assert -signal.SIGKILL == killed.returncode, killed.stderr
    [partial] = backup_dir.glob(".*.partial")
    return partial


def test_a_killed_dump_is_listed_and_pruned_but_a_running_one_is_left_alone(legacy_db, backup_dir):
    partial = killed_dump(legacy_db, backup_dir)
    [listed] = store.list_partials(backup_dir)
    assert (partial.name, False) == (listed["name"], listed["in_use"]) and listed["size_bytes"] > 0
    running = backup_dir / f".{partial.name[1:-8]}-2.partial"
    running.mkdir()
    with store.dumping(running):
        assert {partial.name: False, running.name: True} == {p["name"]: p["in_use"]
                                                             for p in store.list_partials(backup_dir)}
        assert [partial.name] == store.prune(backup_dir, keep=5, dry_run=True)
        assert partial.exists()
        assert [partial.name] == store.prune(backup_dir, keep=5)
    assert not partial.exists() and running.exists()


def test_prune_touches_only_this_tools_backups(legacy_db, backup_dir):
    ours = dump.backup(legacy_db, phase=1, backup_dir=backup_dir, verify_after=False)["name"]
    newer = dump.backup(legacy_db, phase=2, backup_dir=backup_dir, verify_after=False)["name"]
    manifest = (backup_dir / ours / store.MANIFEST).read_text()
    foreign = {  # a name of ours but a foreign manifest; a manifest of ours under another name; a stray partial
        "20200101T000000Z-other-db": '{"format_version": 1, "name": "something else", "files": {}}',
        "photos": manifest,
        ".20200101T000000Z-x-y.partial": None,
    }
    for name, text in foreign.items():
        (backup_dir / name).mkdir()
        (backup_dir / name / ("manifest.json" if text else "holiday.jpg")).write_text(text or "jpeg")
    assert [ours, newer] == [b["name"] for b in store.list_backups(backup_dir)]
    assert [] == store.list_partials(backup_dir)
    assert [ours] == store.prune(backup_dir, keep=1)
    assert {newer, *foreign} == {p.name for p in backup_dir.iterdir()}


@pytest.mark.parametrize("root", ["/", "~"])
def test_prune_refuses_the_root_and_the_home_folder(root):
    with pytest.raises(MigrationError, match=r"refusing to prune /\S*: it is not a backup folder"):
        store.prune(Path(root).expanduser(), keep=0, dry_run=True)
