"""tenant_migrate/cli/backup.py: the backup commands, their output and their bad input."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import typer
from psycopg.conninfo import make_conninfo
from typer.testing import CliRunner

from tenant_migrate.backup import dump
from tenant_migrate.cli import backup as backup_commands

PASSWORD = "s3cret-Pa55word"  # the test servers trust local connections: any password is accepted


def nothing_in(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())



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


def test_cli_lists_a_killed_dump_and_prunes_it_after_a_dry_run(cli, legacy_db, backup_dir):
    name = dump.backup(legacy_db, phase=1, backup_dir=backup_dir)["name"]
    killed = backup_dir / f".{name}-2.partial"  # what a dump killed before its manifest leaves
    killed.mkdir()
    (killed / "dump.pgdump").write_bytes(b"PGDMP")
    runner = CliRunner()
    listing = runner.invoke(cli, ["backups", "--backup-dir", str(backup_dir)])
    assert f"{killed.name} " in listing.output and "dump killed before it finished" in listing.output
    dry = runner.invoke(cli, ["prune-backups", "--keep", "1", "--dry-run", "--backup-dir", str(backup_dir)])
    assert (0, f"would delete 1 backups\n  {killed.name}\n") == (dry.exit_code, dry.output)
    assert killed.exists()
    pruned = runner.invoke(cli, ["prune-backups", "--keep", "1", "--backup-dir", str(backup_dir)])
    assert (0, f"deleted 1 backups\n  {killed.name}\n") == (pruned.exit_code, pruned.output)
    assert [name] == [p.name for p in backup_dir.iterdir()]
