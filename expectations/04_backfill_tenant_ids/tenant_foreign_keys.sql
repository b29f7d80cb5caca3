-- expectations / 04_backfill_tenant_ids / tenant_foreign_keys
-- foreign keys user_id -> users and chatbot_id -> chatbots on the four tenant tables, validated (on a partitioned
-- table, the parent's: every partition has it)
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, col, ref) AS (VALUES ('contacts', 'user_id', 'users'), ('messages', 'user_id', 'users'), ('orders', 'user_id', 'users'), ('campaigns', 'user_id', 'users'), ('contacts', 'chatbot_id', 'chatbots'), ('messages', 'chatbot_id', 'chatbots'), ('orders', 'chatbot_id', 'chatbots'), ('campaigns', 'chatbot_id', 'chatbots'))
SELECT req.tbl, req.col, req.ref,
       CASE WHEN k.oid IS NULL THEN 'missing' ELSE 'not validated' END AS problem
FROM p CROSS JOIN req
LEFT JOIN LATERAL (SELECT k.oid, k.convalidated FROM pg_constraint AS k
  JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
  WHERE k.contype = 'f' AND k.conrelid = to_regclass('public.' || req.tbl)
    AND k.confrelid = to_regclass('public.' || req.ref) AND cardinality(k.conkey) = 1 AND a.attname = req.col
  ORDER BY k.convalidated DESC LIMIT 1) AS k ON true
WHERE k.oid IS NULL OR NOT k.convalidated
