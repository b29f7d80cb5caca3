-- expectations / 01_create_core_tables / no_tenant_columns_yet
-- legacy tables have no tenant columns yet (phase 2 adds them)
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT a.attrelid::regclass::text AS table_name, a.attname AS column_name FROM p CROSS JOIN pg_attribute AS a
WHERE a.attrelid = ANY (ARRAY(SELECT to_regclass('public.' || t) FROM unnest(ARRAY['contacts', 'messages', 'orders', 'campaigns']) AS t))
  AND a.attname IN ('user_id', 'chatbot_id') AND NOT a.attisdropped
