-- 04_backfill_tenant_ids / up / 23_drop_not_null_checks
-- Requires: 04_backfill_tenant_ids / up / 22_set_not_null
-- mode: generated
-- The checks have done their job once every tenant id of the table is NOT NULL: drop them (catalog-only, ACCESS
-- EXCLUSIVE for about a millisecond). Only checks of tables whose tenant ids are all NOT NULL: idempotent.

SELECT format('ALTER TABLE public.%I DROP CONSTRAINT IF EXISTS %I', c.relname, k.conname) AS statement,
       NULL AS note
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
    AND k.contype = 'c'
    AND k.conname = c.relname || '_tenant_not_null_check'
    AND c.relname IN (SELECT t.table_name FROM tenant_migrate.tenant_id_columns AS t)
    AND NOT EXISTS (
        SELECT 1 FROM tenant_migrate.tenant_id_columns AS t
        JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname = t.column_name
        WHERE t.table_name = c.relname AND NOT a.attnotnull
    )
ORDER BY c.relname;
