-- backup / ledger_backup: the sha256 the ledger recorded for a backup (by its folder name) when phase runs used it.
SELECT pr.id, pr.backup_sha256
FROM tenant_migrate.phase_runs AS pr
WHERE regexp_replace(pr.backup_path, '^.*/', '') = %(name)s
ORDER BY pr.id;
