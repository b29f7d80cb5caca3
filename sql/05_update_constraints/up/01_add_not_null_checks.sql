-- 05_update_constraints / up / 01_add_not_null_checks
-- Requires: 04_backfill_tenant_ids
-- mode: generated
-- NOT NULL by the CHECK route (works on PostgreSQL 12+, so 15 and 18): first
-- `CHECK (col IS NOT NULL) NOT VALID`, ACCESS EXCLUSIVE for about a millisecond, no scan; each in its
-- own transaction. Only for columns not yet NOT NULL and without the check: idempotent.
-- Named <table>_<column>_not_null_check, not <table>_<column>_not_null: PostgreSQL 18 gives that
-- name to the NOT NULL constraint SET NOT NULL creates, and would name it ..._not_null1 instead.

SELECT format(
    'ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (%I IS NOT NULL) NOT VALID',
    t.table_name, t.table_name || '_' || t.column_name || '_not_null_check', t.column_name
) AS statement, NULL AS note
FROM tenant_migrate.tenant_id_columns AS t
JOIN pg_attribute AS a
    ON a.attrelid = format('public.%I', t.table_name)::regclass AND a.attname = t.column_name
WHERE NOT a.attnotnull
    AND NOT EXISTS (
        SELECT 1 FROM pg_constraint AS k
        WHERE k.conrelid = a.attrelid AND k.conname = t.table_name || '_' || t.column_name || '_not_null_check'
    )
ORDER BY t.ord;
