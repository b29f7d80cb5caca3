-- 02_add_tenant_columns / up / 06_tenant_columns_nullable
-- Requires: 02_add_tenant_columns / up / 01-04
-- backfill: batched
-- mode: generated
-- The plan's own way: nullable tenant ids (tenant_migrate.tenant_id_columns) on each legacy tenant table, one
-- table per transaction (catalog-only, ACCESS EXCLUSIVE for about a millisecond). Phase 4 sets their defaults
-- and fills them in primary-key batches. Taken when asked for (--backfill batched).

SELECT 'ALTER TABLE public.' || quote_ident(t.table_name) || ' '
       || string_agg(format('ADD COLUMN IF NOT EXISTS %I bigint', t.column_name), ', ' ORDER BY t.ord)
           AS statement,
       NULL AS note
FROM tenant_migrate.tenant_id_columns AS t
GROUP BY t.table_name
ORDER BY min(t.ord);
