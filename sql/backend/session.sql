-- Which SQL form this schema takes, and whether phase 8's public.app_set_tenant exists to name the transaction's
-- tenant with (before phase 8 no policy reads the tenant).
SELECT EXISTS (
           SELECT 1 FROM pg_attribute
           WHERE attrelid = to_regclass('public.contacts') AND attname = 'user_id' AND NOT attisdropped
       ) AND to_regclass('public.chatbots') IS NOT NULL AS tenant_columns,
       to_regprocedure('public.app_set_tenant(bigint)') IS NOT NULL AS row_level_security
