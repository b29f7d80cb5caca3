-- expectations / 05_update_constraints / tenant_columns_not_null
-- user_id and chatbot_id are NOT NULL on contacts, messages, orders, campaigns
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, col) AS (VALUES ('contacts', 'user_id'), ('contacts', 'chatbot_id'), ('messages', 'user_id'), ('messages', 'chatbot_id'), ('orders', 'user_id'), ('orders', 'chatbot_id'), ('campaigns', 'user_id'), ('campaigns', 'chatbot_id'))
SELECT req.tbl, req.col FROM p CROSS JOIN req WHERE NOT EXISTS (SELECT 1 FROM pg_attribute AS a
  WHERE a.attrelid = to_regclass('public.' || req.tbl) AND a.attname = req.col AND a.attnotnull AND NOT a.attisdropped)
