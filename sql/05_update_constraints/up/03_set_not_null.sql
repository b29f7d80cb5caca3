-- 05_update_constraints / up / 03_set_not_null
-- Requires: 05_update_constraints / up / 02_validate_not_null_checks
-- mode: generated
-- SET NOT NULL under ACCESS EXCLUSIVE, but without a scan: the validated CHECK (col IS NOT NULL)
-- proves there is no NULL (PostgreSQL 12+). One statement per table, each in its own transaction.
-- A column with no validated check gets a statement that fails instead of a SET NOT NULL that would
-- scan the whole table under ACCESS EXCLUSIVE.

SELECT
    CASE WHEN k.convalidated THEN
        format('ALTER TABLE public.%I ALTER COLUMN %I SET NOT NULL', t.table_name, t.column_name)
    ELSE
        format(
            'DO $guard$ BEGIN RAISE EXCEPTION %L; END $guard$',
            format('%s.%s: no validated check %s_%s_not_null_check; refusing SET NOT NULL (it would scan '
                   'under ACCESS EXCLUSIVE). Re-run the phase from step 01.',
                   t.table_name, t.column_name, t.table_name, t.column_name)
        )
    END AS statement,
    NULL AS note
FROM tenant_migrate.tenant_id_columns AS t
JOIN pg_attribute AS a
    ON a.attrelid = format('public.%I', t.table_name)::regclass AND a.attname = t.column_name
LEFT JOIN pg_constraint AS k
    ON k.conrelid = a.attrelid AND k.contype = 'c'
    AND k.conname = t.table_name || '_' || t.column_name || '_not_null_check'
WHERE NOT a.attnotnull
ORDER BY t.ord;
