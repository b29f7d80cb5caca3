-- 05_update_constraints / up / 14_tenant_references
-- Requires: 05_update_constraints / up / 13_attach_tenant_keys
-- mode: generated
-- The composite twin of each reference between tenant tables (tenant_migrate.tenant_references), for example
-- messages (user_id, contact_id) -> contacts (user_id, id), with the app's own ON DELETE / ON UPDATE, added NOT
-- VALID: SHARE ROW EXCLUSIVE on both tables for about a millisecond, no scan; from now on every new row is
-- checked. A partitioned table takes it per leaf partition (step 16 adds it to the parent). Legacy inserts that
-- do not name user_id keep working: its default is the tenant of every legacy row.

SELECT format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', leaf, r.composite_name,
              r.composite_definition) AS statement,
       NULL AS note
FROM tenant_migrate.tenant_references AS r
CROSS JOIN LATERAL tenant_migrate.leaf_tables(format('public.%I', r.table_name)::regclass) AS leaf
WHERE r.replaceable AND to_regclass(format('public.%I', r.referenced || '_user_id_id_key')) IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conrelid = leaf AND k.conname = r.composite_name)
ORDER BY r.table_name, r.column_name, leaf::text;
