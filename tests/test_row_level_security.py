"""Phase 8 run by a role that is not superuser (the managed-cloud case): what preflight asks of it, and
backups and restores that stay complete although row-level security now applies to that role too."""

from __future__ import annotations

import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from tenant_migrate import runner
from tenant_migrate.backup import dump, restore
from tenant_migrate.db import LEGACY_TABLES, connection, drop_database, row_counts
from tenant_migrate.dsn import database_name, with_database
from tenant_migrate.errors import BackupError, ConflictError

TENANT_ROLES = ("tenant_app", "tenant_legacy", "tenant_owner")


def test_a_non_superuser_owner_migrates_backs_up_and_restores_under_row_level_security(legacy_db, tmp_path):
    db = database_name(legacy_db)
    owner, copy = f"{db}_owner", f"{db}_copy"
    as_owner = make_conninfo(legacy_db, user=owner)
    with connection(legacy_db) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB").format(sql.Identifier(owner)))
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(db), sql.Identifier(owner)))
        for table in LEGACY_TABLES:
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(sql.Identifier(table), sql.Identifier(owner)))
        try:
            runner.migrate(as_owner, 7)
            with pytest.raises(ConflictError) as stop:
                runner.migrate(as_owner)  # it can neither create the roles nor join existing ones
            first = stop.value.findings[0]
            assert (8, "preflight", True) == (first.phase, first.object, f"role {owner} " in first.text)
            for role in TENANT_ROLES:  # what the operator's superuser does, as the message says
                conn.execute(f"DO $$ BEGIN CREATE ROLE {role} NOLOGIN; EXCEPTION WHEN duplicate_object THEN END $$")
            conn.execute(sql.SQL("GRANT tenant_app, tenant_legacy, tenant_owner TO {}").format(sql.Identifier(owner)))
            runner.migrate(as_owner)
            expected = row_counts(conn)

            manifest = dump.backup(as_owner, phase=None, backup_dir=tmp_path)
            assert expected == manifest["row_counts"]  # pg_dump ran with --enable-row-security: every row
            restore.restore(manifest["path"], as_owner, yes=True, new_database=copy)
            with connection(with_database(legacy_db, copy)) as restored:
                assert expected == row_counts(restored)
                assert 18 == restored.execute("SELECT count(*) FROM pg_class WHERE relforcerowsecurity").fetchone()[0]

            conn.execute(sql.SQL("REVOKE tenant_owner FROM {}").format(sql.Identifier(owner)))
            with pytest.raises(BackupError, match="a BYPASSRLS role or a member of tenant_owner$"):
                dump.backup(as_owner, phase=None, backup_dir=tmp_path)
        finally:
            drop_database(conn, copy)
            conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO CURRENT_USER").format(sql.Identifier(db)))
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(owner)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(owner)))
