-- 04_backfill_tenant_ids / down / 08_unsweep_messages
-- Requires: 04_backfill_tenant_ids / down / 01_undo_created_objects (the foreign keys dropped)
-- backfill: instant
-- mode: batched
-- table: messages
-- rows: id::text IN (SELECT s.id FROM tenant_migrate.swept_rows AS s WHERE s.table_name = 'messages')
-- The rows phase 4's sweep gave a tenant get their old tenant ids back (tenant_migrate.swept_rows); no other
-- row is written. No trigger of the app's fires (replica role). Idempotent: a row already back is rewritten
-- with the same values only while its record is kept (step 12 forgets them at the end).

UPDATE public.messages AS t
SET user_id = s.user_id, chatbot_id = s.chatbot_id
FROM tenant_migrate.swept_rows AS s
WHERE s.table_name = 'messages' AND s.id = t.id::text AND t.id >= %(lo)s AND t.id < %(hi)s;
