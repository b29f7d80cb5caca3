"""tenant_migrate/backup/restore.py: restoring in place, into a new database, into a scratch database."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import clone_legacy, snapshot

from tenant_migrate import demo, ledger, lock, runner
from tenant_migrate.backup import dump, restore, store
from tenant_migrate.db import connection
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import BackupError, LockHeld, MigrationError, RestoreRefused, RestoreUnconfirmed


def scratch_databases(dsn: str) -> list[str]:
    with connection(dsn) as conn:
        return [r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE '%\\_verify\\_%'")]


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
        ledger.ensure(conn)
    restore.restore(path, legacy_db, yes=True)
    assert snapshot(legacy_db) == before
    with connection(legacy_db) as conn:
        assert conn.execute("SELECT to_regclass('public.chatbots'), to_regnamespace('tenant_migrate')"
                            ).fetchone() == (None, None)
        assert conn.execute("SELECT nspowner::regrole::text, nspacl::text FROM pg_namespace "
                            "WHERE nspname = 'public'").fetchone() == acl_before


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
        with pytest.raises(RestoreRefused, match="choose another --new-database"):
            restore.restore(path, legacy_db, yes=True, new_database=name)
        with pytest.raises(RestoreUnconfirmed, match="re-run with --yes") as unconfirmed:
            restore.restore(path, legacy_db, yes=False, new_database=f"{name}_2")
        assert {} == unconfirmed.value.rows_lost
    finally:
        demo.drop_database(pg_server, name)


def test_restore_refuses_without_yes_and_changes_nothing(legacy_db, backup_dir):
    path = dump.backup(legacy_db, phase=1, backup_dir=backup_dir)["path"]
    with connection(legacy_db) as conn:
        conn.execute("INSERT INTO contacts (phone_number) SELECT '+1555' || g FROM generate_series(1000000, 1000041) g")
    before = snapshot(legacy_db)
    with pytest.raises(RestoreUnconfirmed, match="re-run with --yes") as unconfirmed:
        restore.restore(path, legacy_db, yes=False)
    assert {"contacts": 42} == unconfirmed.value.rows_lost
    assert snapshot(legacy_db) == before
    assert not (Path(path) / store.RESTORES).exists()


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
    with pytest.raises(BackupError, match="than its manifest: messages "):
        restore.verify_restore(legacy_db, path)
    assert scratch_databases(pg_server) == []


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


def test_an_in_place_restore_into_another_database_needs_that_database_named(legacy_db, pg_server, legacy_template,
                                                                              backup_dir):
    path = dump.backup(legacy_db, phase=None, backup_dir=backup_dir)["path"]
    other = clone_legacy(pg_server, legacy_template)
    try:
        with connection(other) as conn:
            conn.execute("DELETE FROM orders")
        before = snapshot(other)
        source, target = database_name(legacy_db), database_name(other)
        with pytest.raises(RestoreRefused, match=f"add --confirm-target {target}$"):
            restore.restore(path, other, yes=True)
        with pytest.raises(RestoreRefused, match=f"name the database that the restore replaces \\('{target}'\\)$"):
            restore.restore(path, other, yes=True, confirm_target=source)
        assert snapshot(other) == before
        restore.restore(path, other, yes=True, confirm_target=target)
        assert snapshot(other) == snapshot(legacy_db)
    finally:
        demo.drop_database(pg_server, database_name(other))


def test_an_in_place_restore_into_another_cluster_is_refused(legacy_db, backup_dir):
    path = Path(dump.backup(legacy_db, phase=None, backup_dir=backup_dir)["path"])
    manifest = store.read_manifest(path)
    manifest["system_identifier"] = "1234567890"  # as if taken on another server of the same database name
    (path / store.MANIFEST).write_text(json.dumps(manifest))
    before = snapshot(legacy_db)
    with pytest.raises(RestoreRefused, match=f"add --confirm-target {database_name(legacy_db)}$"):
        restore.restore(path, legacy_db, yes=True)
    assert snapshot(legacy_db) == before


def test_no_restore_while_a_migration_holds_its_lock(legacy_db, backup_dir):
    path = dump.backup(legacy_db, phase=None, backup_dir=backup_dir)["path"]
    with connection(legacy_db) as conn:
        conn.execute("DELETE FROM campaign_subscribers")
    before = snapshot(legacy_db)
    with lock.migration_lock(legacy_db), pytest.raises(LockHeld) as held:  # running, or at its gate
        restore.restore(path, legacy_db, yes=True)
    assert held.value.holder.startswith("pid ")
    assert snapshot(legacy_db) == before


def test_rows_you_would_lose_counts_every_table_the_restore_replaces(legacy_db, backup_dir):
    with connection(legacy_db) as conn:
        conn.execute("CREATE SCHEMA app")
        conn.execute("CREATE TABLE app.audit (id integer)")
    path = dump.backup(legacy_db, phase=None, backup_dir=backup_dir)["path"]
    with connection(legacy_db) as conn:  # rows in a table of another schema, and in a table made since
        conn.execute("INSERT INTO app.audit SELECT generate_series(1, 5)")
        conn.execute("CREATE TABLE public.chatbots AS SELECT generate_series(1, 3) AS id")
    with pytest.raises(RestoreUnconfirmed) as unconfirmed:
        restore.restore(path, legacy_db, yes=False)
    assert {"app.audit": 5, "chatbots": 3} == unconfirmed.value.rows_lost


def test_a_backup_that_differs_from_the_ledgers_record_is_refused(legacy_db, backup_dir):
    path = Path(dump.backup(legacy_db, phase=None, backup_dir=backup_dir)["path"])
    runner.migrate(legacy_db, to=1)
    with connection(legacy_db) as conn:
        run_id = ledger.latest_run(conn, 1)["id"]
        ledger.update_run(conn, run_id, backup_path=str(path), backup_sha256="0" * 64)
    before = snapshot(legacy_db)
    with pytest.raises(RestoreRefused, match=f"run {run_id} noted sha256 0000000000000000.*restore another backup$"):
        restore.restore(path, legacy_db, yes=True)
    assert snapshot(legacy_db) == before
    with connection(legacy_db) as conn:
        ledger.update_run(conn, run_id, backup_sha256=store.read_manifest(path)["sha256"])
    restore.restore(path, legacy_db, yes=True)


def test_a_role_that_cannot_identify_the_cluster_backs_up_and_must_name_the_target(legacy_db, password_role,
                                                                                   backup_dir):
    """A DBA may revoke pg_control_system() from PUBLIC: a backup by a role without it still works and records no
    cluster; an in-place restore of it then needs the target named."""
    with connection(legacy_db) as conn:  # pg_proc is per database: this database only
        conn.execute("REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC")
    path = Path(dump.backup(password_role, phase=None, backup_dir=backup_dir)["path"])
    assert "" == store.read_manifest(path)["system_identifier"]
    with pytest.raises(RestoreRefused, match=r"\(cluster this role cannot identify\): .* add --confirm-target"):
        restore.restore(path, password_role, yes=True)
    with pytest.raises(RestoreRefused, match="add --confirm-target"):
        restore.restore(path, legacy_db, yes=True)  # a role that can tell the cluster: still unknown in the backup
    restore.restore(path, legacy_db, yes=True, confirm_target=database_name(legacy_db))
