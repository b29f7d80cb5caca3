-- 09_distribute / down / 04_forget_saved_objects
-- Requires: 09_distribute / down / 03_restore_replaced_objects (every replaced key and reference is back)
-- mode: transaction
-- The saved definitions of objects that exist again are no longer needed (a re-apply saves them anew). An object an
-- earlier phase created and phase 9 replaced (phase 6's primary keys, phase 1's unique keys, ...) is that phase's
-- again, as it was before phase 9 released it: its record comes back, so that its own rollback undoes it. Touches
-- only the ledger schema.

UPDATE tenant_migrate.owned_objects AS o
SET released_at = NULL
FROM tenant_migrate.saved_objects AS s
WHERE s.phase = 9 AND o.phase < 9 AND o.ownership = 'created' AND o.released_at IS NOT NULL
    AND o.table_name = s.table_name AND o.name = s.object_name AND o.kind IN ('constraint', 'index')
    AND o.released_at >= (SELECT min(r.started_at) FROM tenant_migrate.phase_runs AS r
                          WHERE r.phase = 9 AND r.direction = 'up'
                              AND r.id > coalesce((SELECT max(d.id) FROM tenant_migrate.phase_runs AS d
                                                   WHERE d.phase = 9 AND d.direction = 'down'
                                                       AND d.status = 'rolled_back'), 0))
    AND EXISTS (SELECT 1 FROM pg_constraint AS k
                WHERE k.conrelid = format('public.%I', s.table_name)::regclass AND k.conname = s.object_name);

DELETE FROM tenant_migrate.saved_objects AS s
WHERE s.phase = 9
    AND EXISTS (SELECT 1 FROM pg_constraint AS k
                WHERE k.conrelid = format('public.%I', s.table_name)::regclass AND k.conname = s.object_name);
