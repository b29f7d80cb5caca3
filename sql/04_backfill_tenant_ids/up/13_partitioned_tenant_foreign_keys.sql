-- 04_backfill_tenant_ids / up / 13_partitioned_tenant_foreign_keys
-- Requires: 04_backfill_tenant_ids / up / 12_validate_tenant_foreign_keys
-- mode: generated
-- On a partitioned tenant table, the foreign key itself, added to the parent once every leaf partition has its
-- validated one: PostgreSQL adopts those instead of scanning (about a millisecond of SHARE ROW EXCLUSIVE), and
-- partitions created later get it too. Nothing to do on tables that are not partitioned.

SELECT format('ALTER TABLE public.%I ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES public.%I (%s)',
              w.table_name, w.table_name || '_' || w.column_name || '_fkey', array_to_string(w.fk_columns, ', '),
              w.referenced, array_to_string(w.referenced_columns, ', ')) AS statement,
       format('%s.%s: foreign key added to the partitioned table, adopting its partitions'' validated ones',
              w.table_name, w.column_name) AS note
FROM tenant_migrate.tenant_id_columns AS w
JOIN pg_class AS c ON c.oid = format('public.%I', w.table_name)::regclass AND c.relkind = 'p'
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint AS k
                  WHERE k.conrelid = c.oid AND k.conname = w.table_name || '_' || w.column_name || '_fkey')
ORDER BY w.ord;
