-- 05_update_constraints / up / 17_save_single_column_references
-- Requires: 05_update_constraints / up / 16_partitioned_tenant_references
-- mode: transaction
-- Saves, for the rollback (tenant_migrate.save_constraint), each app reference whose composite twin is in place
-- and validated (step 18 drops exactly these). Reads the catalog only; idempotent.

SELECT tenant_migrate.save_constraint(5, k.oid)
FROM tenant_migrate.tenant_references AS r
JOIN pg_constraint AS k
    ON k.conrelid = format('public.%I', r.table_name)::regclass AND k.conname = r.constraint_name
WHERE EXISTS (SELECT 1 FROM pg_constraint AS twin
              WHERE twin.conrelid = k.conrelid AND twin.conname = r.composite_name AND twin.convalidated);
