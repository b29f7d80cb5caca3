-- expectations / 02_add_tenant_columns / tenant_columns_nullable
-- user_id and chatbot_id exist on contacts, messages, orders, campaigns and are still nullable
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, col) AS (VALUES ('contacts', 'user_id'), ('contacts', 'chatbot_id'), ('messages', 'user_id'), ('messages', 'chatbot_id'), ('orders', 'user_id'), ('orders', 'chatbot_id'), ('campaigns', 'user_id'), ('campaigns', 'chatbot_id'))
SELECT req.tbl, req.col, CASE WHEN a.attname IS NULL THEN 'missing' ELSE 'NOT NULL' END AS problem
FROM p CROSS JOIN req LEFT JOIN pg_attribute AS a
  ON a.attrelid = to_regclass('public.' || req.tbl) AND a.attname = req.col AND NOT a.attisdropped
WHERE a.attname IS NULL OR a.attnotnull
