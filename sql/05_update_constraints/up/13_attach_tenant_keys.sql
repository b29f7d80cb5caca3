-- 05_update_constraints / up / 13_attach_tenant_keys
-- Requires: 05_update_constraints / up / 12_tenant_key_indexes
-- mode: generated
-- ADD CONSTRAINT ... UNIQUE USING INDEX for each (user_id, id) index of step 12: catalog-only (the index is built
-- and valid), ACCESS EXCLUSIVE for about a millisecond, one table per transaction. Idempotent.

SELECT format('ALTER TABLE public.%I ADD CONSTRAINT %I UNIQUE USING INDEX %I', t.relname, i.relname, i.relname)
           AS statement,
       NULL AS note
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
WHERE t.relnamespace = 'public'::regnamespace AND x.indisvalid
    AND t.relname IN ('contacts', 'messages', 'orders', 'campaigns') AND i.relname = t.relname || '_user_id_id_key'
    AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = x.indexrelid)
ORDER BY t.relname;
