-- The transaction's tenant for row-level security, and which SQL form this schema takes.
SELECT set_config('app.tenant_id', %(user_id)s::text, true) AS tenant,
       EXISTS (
           SELECT 1 FROM pg_attribute
           WHERE attrelid = to_regclass('public.contacts') AND attname = 'user_id' AND NOT attisdropped
       ) AND to_regclass('public.chatbots') IS NOT NULL AS tenant_columns
