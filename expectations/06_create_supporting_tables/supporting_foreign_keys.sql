-- expectations / 06_create_supporting_tables / supporting_foreign_keys
-- supporting tables reference users by user_id (order_items references orders by order_id), validated
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, col, ref) AS (VALUES ('actions', 'user_id', 'users'), ('products', 'user_id', 'users'), ('usage_tracking', 'user_id', 'users'), ('monthly_usage_summary', 'user_id', 'users'), ('analytics_events', 'user_id', 'users'), ('api_keys', 'user_id', 'users'), ('webhooks', 'user_id', 'users'), ('bot_knowledge_base', 'user_id', 'users'), ('conversation_instructions', 'user_id', 'users'), ('order_items', 'order_id', 'orders'))
SELECT req.tbl, req.col, req.ref,
       CASE WHEN k.oid IS NULL THEN 'missing' ELSE 'not validated' END AS problem
FROM p CROSS JOIN req
LEFT JOIN LATERAL (SELECT k.oid, k.convalidated FROM pg_constraint AS k
  JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
  WHERE k.contype = 'f' AND k.conrelid = to_regclass('public.' || req.tbl)
    AND k.confrelid = to_regclass('public.' || req.ref) AND cardinality(k.conkey) = 1 AND a.attname = req.col
  ORDER BY k.convalidated DESC LIMIT 1) AS k ON true
WHERE k.oid IS NULL OR NOT k.convalidated
