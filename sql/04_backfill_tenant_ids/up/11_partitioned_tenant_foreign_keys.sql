-- 04_backfill_tenant_ids / up / 11_partitioned_tenant_foreign_keys
-- Requires: 04_backfill_tenant_ids / up / 10_validate_tenant_foreign_keys
-- mode: generated
-- On a partitioned tenant table, the foreign key itself, added to the parent once every leaf partition has its
-- validated one: PostgreSQL adopts those instead of scanning (about a millisecond of SHARE ROW EXCLUSIVE), and
-- partitions created later get it too. Nothing to do on tables that are not partitioned.

WITH wanted (ord, table_name, column_name, referenced) AS (
    VALUES (1, 'contacts', 'user_id', 'users'), (2, 'contacts', 'chatbot_id', 'chatbots'),
           (3, 'messages', 'user_id', 'users'), (4, 'messages', 'chatbot_id', 'chatbots'),
           (5, 'orders', 'user_id', 'users'), (6, 'orders', 'chatbot_id', 'chatbots'),
           (7, 'campaigns', 'user_id', 'users'), (8, 'campaigns', 'chatbot_id', 'chatbots')
)
SELECT format('ALTER TABLE public.%I ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES public.%I (id)',
              w.table_name, w.table_name || '_' || w.column_name || '_fkey', w.column_name, w.referenced)
           AS statement,
       format('%s.%s: foreign key added to the partitioned table, adopting its partitions'' validated ones',
              w.table_name, w.column_name) AS note
FROM wanted AS w
JOIN pg_class AS c ON c.oid = format('public.%I', w.table_name)::regclass AND c.relkind = 'p'
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint AS k
                  WHERE k.conrelid = c.oid AND k.conname = w.table_name || '_' || w.column_name || '_fkey')
ORDER BY w.ord;
