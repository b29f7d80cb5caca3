-- 04_backfill_tenant_ids / up / 22_set_not_null
-- Requires: 04_backfill_tenant_ids / up / 15 or 21 (the checks validated)
-- mode: generated
-- SET NOT NULL under ACCESS EXCLUSIVE, but without a scan: the validated CHECK proves there is no NULL
-- (PostgreSQL 12+ skips the scan when a valid CHECK implies the column IS NOT NULL, an AND of such tests
-- included; measured with pg_stat_user_tables.seq_scan on 15 and 18: tests/test_scans.py). One statement per
-- table, all its tenant ids at once, each in its own transaction. A table with no validated check gets a
-- statement that fails instead of a SET NOT NULL that would scan the whole table under ACCESS EXCLUSIVE.
-- Done here rather than in phase 5 (the plan's place for NOT NULL) so that the check the scan validated is this
-- phase's from start to end: created, used and dropped by it, and its rollback gives back the exact catalog.

SELECT
    CASE WHEN bool_and(k.convalidated) THEN
        format('ALTER TABLE public.%I %s', t.table_name,
               string_agg(format('ALTER COLUMN %I SET NOT NULL', t.column_name), ', ' ORDER BY t.ord))
    ELSE
        format(
            'DO $guard$ BEGIN RAISE EXCEPTION %L; END $guard$',
            format('%s: no validated check %s_tenant_not_null_check; refusing SET NOT NULL (it would scan '
                   'under ACCESS EXCLUSIVE). Roll phase 4 back and apply it again.', t.table_name, t.table_name)
        )
    END AS statement,
    NULL AS note
FROM tenant_migrate.tenant_id_columns AS t
JOIN pg_attribute AS a
    ON a.attrelid = format('public.%I', t.table_name)::regclass AND a.attname = t.column_name
LEFT JOIN pg_constraint AS k
    ON k.conrelid = a.attrelid AND k.contype = 'c' AND k.conname = t.table_name || '_tenant_not_null_check'
WHERE NOT a.attnotnull
GROUP BY t.table_name
ORDER BY min(t.ord);
