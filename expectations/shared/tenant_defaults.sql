-- expectations / shared / tenant_defaults
-- user_id and chatbot_id default to tenant 1, so legacy INSERTs that omit them keep working
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, col) AS (VALUES ('contacts', 'user_id'), ('contacts', 'chatbot_id'), ('messages', 'user_id'), ('messages', 'chatbot_id'), ('orders', 'user_id'), ('orders', 'chatbot_id'), ('campaigns', 'user_id'), ('campaigns', 'chatbot_id'))
SELECT req.tbl, req.col FROM p CROSS JOIN req
LEFT JOIN pg_attrdef AS d ON d.adrelid = to_regclass('public.' || req.tbl)
  AND d.adnum = (SELECT a.attnum FROM pg_attribute AS a WHERE a.attrelid = to_regclass('public.' || req.tbl)
                 AND a.attname = req.col AND NOT a.attisdropped)
WHERE d.oid IS NULL OR pg_get_expr(d.adbin, d.adrelid) !~ '^1(::[a-z ]+)?$'
