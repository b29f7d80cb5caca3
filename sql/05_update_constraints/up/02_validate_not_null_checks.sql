-- 05_update_constraints / up / 02_validate_not_null_checks
-- Requires: 05_update_constraints / up / 01_add_not_null_checks
-- mode: generated
-- VALIDATE CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE only (reads and writes continue),
-- one constraint per transaction. Only checks not yet validated: idempotent.

SELECT format('ALTER TABLE public.%I VALIDATE CONSTRAINT %I', c.relname, k.conname) AS statement,
       NULL AS note
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN tenant_migrate.tenant_id_columns AS t
    ON t.table_name = c.relname AND k.conname = t.table_name || '_' || t.column_name || '_not_null_check'
WHERE n.nspname = 'public'
    AND k.contype = 'c'
    AND NOT k.convalidated
ORDER BY c.relname, k.conname;
