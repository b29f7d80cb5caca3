-- 02_add_tenant_columns / up / 05_tenant_columns_with_default
-- Requires: 02_add_tenant_columns / up / 01-04
-- backfill: instant
-- mode: generated
-- The tenant ids (tenant_migrate.tenant_id_columns) with DEFAULT 1 on each legacy tenant table, one table per
-- transaction. PostgreSQL 11+ keeps a constant default in the catalog (attmissingval) and returns it for every
-- row written before: the ALTER is catalog-only (ACCESS EXCLUSIVE for about a millisecond, no scan, no rewrite, no WAL beyond the catalog),
-- every existing row reads tenant 1 at once, and rows the legacy app inserts without naming the columns get
-- tenant 1 too. No row is rewritten, so no trigger of the app's fires. No foreign key yet: user 1 exists only
-- after phase 3 (phase 4 adds them). On a partitioned table the columns reach every partition.

SELECT 'ALTER TABLE public.' || quote_ident(t.table_name) || ' '
       || string_agg(format('ADD COLUMN IF NOT EXISTS %I bigint DEFAULT 1', t.column_name), ', ' ORDER BY t.ord)
           AS statement,
       NULL AS note
FROM tenant_migrate.tenant_id_columns AS t
GROUP BY t.table_name
ORDER BY min(t.ord);
