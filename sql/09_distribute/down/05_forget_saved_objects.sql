-- 09_distribute / down / 05_forget_saved_objects
-- Requires: 09_distribute / down / 03-04 (every replaced key and reference is back)
-- mode: transaction
-- What steps 03-04 just built from a saved definition is what phase 9 replaced, under its identity now: an object an
-- earlier phase created (phase 1's users_email_key, phase 6's primary keys, ...) is that phase's again, as it was
-- before phase 9 released it (its record comes back, so that that phase's own rollback undoes it); an object of the
-- app's (contacts_pkey, ...) is the app's again in the catalog before phase 1 (tenant_migrate.baseline_objects: a
-- rollback never acts on it). Then the saved definitions of objects that exist again, on the table they were saved
-- from, are no longer needed (a re-apply saves them anew). Touches only the ledger schema.

UPDATE tenant_migrate.owned_objects AS o
SET released_at = NULL, objid = c.objid, objsub = c.objsub
FROM tenant_migrate.saved_objects AS s
JOIN tenant_migrate.catalog_objects AS c
    ON c.kind IN ('constraint', 'index') AND c.table_name = s.table_name AND c.name = s.object_name
WHERE s.phase = 9 AND o.phase < 9 AND o.ownership = 'created' AND o.released_at IS NOT NULL
    AND (o.kind, o.table_name, o.name) = (c.kind, c.table_name, c.name)
    AND EXISTS (SELECT 1 FROM pg_class AS t
                WHERE t.oid = s.table_oid AND t.relname = s.table_name AND t.relnamespace = 'public'::regnamespace)
    AND o.released_at >= (SELECT min(r.started_at) FROM tenant_migrate.phase_runs AS r
                          WHERE r.phase = 9 AND r.direction = 'up'
                              AND r.id > coalesce((SELECT max(d.id) FROM tenant_migrate.phase_runs AS d
                                                   WHERE d.phase = 9 AND d.direction = 'down'
                                                       AND d.status = 'rolled_back'), 0));

UPDATE tenant_migrate.baseline_objects AS b
SET objid = c.objid, objsub = c.objsub
FROM tenant_migrate.saved_objects AS s
JOIN tenant_migrate.catalog_objects AS c
    ON c.kind IN ('constraint', 'index') AND c.table_name = s.table_name AND c.name = s.object_name
WHERE s.phase = 9 AND (b.kind, b.table_name, b.name) = (c.kind, c.table_name, c.name)
    AND EXISTS (SELECT 1 FROM pg_class AS t
                WHERE t.oid = s.table_oid AND t.relname = s.table_name AND t.relnamespace = 'public'::regnamespace);

DELETE FROM tenant_migrate.saved_objects AS s
WHERE s.phase = 9
    AND EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conrelid = s.table_oid AND k.conname = s.object_name);
