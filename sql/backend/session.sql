-- Which SQL form this schema takes; whether phase 8's public.app_set_tenant exists to name the transaction's tenant
-- with (before phase 8 no policy reads the tenant); and whether a row may still lack its tenant (a user_id that may
-- be NULL: before phase 5; the tenant form reads such a row as the admin tenant's, as phase 4 makes it). Once user_id
-- is NOT NULL the tenant form names the tenant by equality alone, which Citus routes to the one shard that holds it.
SELECT EXISTS (
           SELECT 1 FROM pg_attribute
           WHERE attrelid = to_regclass('public.contacts') AND attname = 'user_id' AND NOT attisdropped
       ) AND to_regclass('public.chatbots') IS NOT NULL AS tenant_columns,
       to_regprocedure('public.app_set_tenant(bigint)') IS NOT NULL AS row_level_security,
       NOT EXISTS (
           SELECT 1 FROM pg_attribute
           WHERE attrelid = to_regclass('public.contacts') AND attname = 'user_id' AND NOT attisdropped
               AND attnotnull
       ) AS unfilled
