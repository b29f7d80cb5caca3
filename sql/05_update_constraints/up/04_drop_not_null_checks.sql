-- 05_update_constraints / up / 04_drop_not_null_checks
-- Requires: 05_update_constraints / up / 03_set_not_null
-- mode: generated
-- The checks have done their job once the column is NOT NULL: drop them (catalog-only, ACCESS
-- EXCLUSIVE for about a millisecond). Only checks of columns already NOT NULL: idempotent.

SELECT format('ALTER TABLE public.%I DROP CONSTRAINT IF EXISTS %I', c.relname, k.conname) AS statement,
       NULL AS note
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.conkey[1]
JOIN tenant_migrate.tenant_id_columns AS t ON t.table_name = c.relname AND t.column_name = a.attname
WHERE n.nspname = 'public'
    AND k.contype = 'c'
    AND k.conname = c.relname || '_' || a.attname || '_not_null_check'
    AND a.attnotnull
ORDER BY c.relname, k.conname;
