-- 05_update_constraints / up / 07_attach_composite_uniques
-- Requires: 05_update_constraints / up / 05, 06
-- mode: generated
-- ADD CONSTRAINT ... UNIQUE USING INDEX (with the app's DEFERRABLE / INITIALLY DEFERRED): catalog-only (the index
-- is built and valid), ACCESS EXCLUSIVE for about a millisecond, one key per transaction. Not for a per-tenant key
-- that is partial or has an expression (no constraint can be): it stays a unique index, as the app's was. Only
-- indexes no constraint owns yet: idempotent.

SELECT format('ALTER TABLE public.contacts ADD CONSTRAINT %I UNIQUE USING INDEX %I%s', u.key_name, u.key_name,
              u.deferrable) AS statement,
       NULL AS note
FROM tenant_migrate.tenant_uniques AS u
JOIN pg_class AS i ON i.relname = u.key_name AND i.relnamespace = 'public'::regnamespace
JOIN pg_index AS x ON x.indexrelid = i.oid AND x.indrelid = 'public.contacts'::regclass
WHERE u.why IS NULL AND u.as_constraint AND x.indisvalid AND x.indpred IS NULL AND x.indexprs IS NULL
    AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = x.indexrelid)
ORDER BY u.ord;
