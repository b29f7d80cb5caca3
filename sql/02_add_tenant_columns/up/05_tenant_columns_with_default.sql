-- 02_add_tenant_columns / up / 05_tenant_columns_with_default
-- Requires: 02_add_tenant_columns / up / 01-04
-- backfill: instant
-- mode: generated
-- user_id and chatbot_id with DEFAULT 1 on each tenant table, one table per transaction. PostgreSQL 11+ keeps a
-- constant default in the catalog (attmissingval) and returns it for every row written before: the ALTER is
-- catalog-only (ACCESS EXCLUSIVE for about a millisecond, no scan, no rewrite, no WAL beyond the catalog),
-- every existing row reads tenant 1 at once, and rows the legacy app inserts without naming the columns get
-- tenant 1 too. No row is rewritten, so no trigger of the app's fires. No foreign key yet: user 1 exists only
-- after phase 3 (phase 4 adds them). On a partitioned table the columns reach every partition.

SELECT format('ALTER TABLE public.%I ADD COLUMN IF NOT EXISTS user_id bigint DEFAULT 1, '
              'ADD COLUMN IF NOT EXISTS chatbot_id bigint DEFAULT 1', t.table_name) AS statement,
       NULL AS note
FROM unnest(ARRAY['contacts', 'messages', 'orders', 'campaigns']) WITH ORDINALITY AS t (table_name, ord)
ORDER BY t.ord;
