-- backup / ledger_state: the newest run of each phase in the ledger, as JSON, for a backup's manifest.
-- Run only when tenant_migrate.phase_runs exists (to_jsonb keeps it independent of the ledger's columns).
SELECT DISTINCT ON (pr.phase) to_jsonb(pr) AS run
FROM tenant_migrate.phase_runs AS pr
ORDER BY pr.phase, pr.id DESC;
