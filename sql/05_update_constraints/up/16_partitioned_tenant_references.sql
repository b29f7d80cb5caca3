-- 05_update_constraints / up / 16_partitioned_tenant_references
-- Requires: 05_update_constraints / up / 15_validate_tenant_references
-- mode: generated
-- On a partitioned table, the composite reference itself, added to the parent once every leaf partition has its
-- validated one: PostgreSQL adopts those instead of scanning (about a millisecond of SHARE ROW EXCLUSIVE), and
-- partitions created later get it too. Nothing to do on tables that are not partitioned.

SELECT format('ALTER TABLE public.%I ADD CONSTRAINT %I %s', r.table_name, r.composite_name, r.composite_definition)
           AS statement,
       format('%s.%s: composite reference added to the partitioned table, adopting its partitions'' validated ones',
              r.table_name, r.column_name) AS note
FROM tenant_migrate.tenant_references AS r
JOIN pg_class AS c ON c.oid = format('public.%I', r.table_name)::regclass AND c.relkind = 'p'
WHERE r.replaceable
    AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conrelid = c.oid AND k.conname = r.composite_name)
ORDER BY r.table_name, r.column_name;
