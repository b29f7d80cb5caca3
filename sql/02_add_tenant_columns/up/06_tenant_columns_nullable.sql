-- 02_add_tenant_columns / up / 06_tenant_columns_nullable
-- Requires: 02_add_tenant_columns / up / 01-04
-- backfill: batched
-- mode: generated
-- The plan's own way: nullable user_id and chatbot_id on each tenant table, one table per transaction
-- (catalog-only, ACCESS EXCLUSIVE for about a millisecond). Phase 4 sets their defaults and fills them in
-- primary-key batches. Taken when asked for (--backfill batched).

SELECT format('ALTER TABLE public.%I ADD COLUMN IF NOT EXISTS user_id bigint, '
              'ADD COLUMN IF NOT EXISTS chatbot_id bigint', t.table_name) AS statement,
       NULL AS note
FROM unnest(ARRAY['contacts', 'messages', 'orders', 'campaigns']) WITH ORDINALITY AS t (table_name, ord)
ORDER BY t.ord;
