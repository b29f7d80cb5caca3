-- expectations / 01_create_core_tables / core_foreign_keys
-- foreign keys user_subscriptions.user_id and chatbots.user_id reference users (validated)
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, col, ref) AS (VALUES ('user_subscriptions', 'user_id', 'users'), ('chatbots', 'user_id', 'users'))
SELECT req.tbl, req.col, req.ref,
       CASE WHEN k.oid IS NULL THEN 'missing' ELSE 'not validated' END AS problem
FROM p CROSS JOIN req
LEFT JOIN LATERAL (SELECT k.oid, k.convalidated FROM pg_constraint AS k
  JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
  WHERE k.contype = 'f' AND k.conrelid = to_regclass('public.' || req.tbl)
    AND k.confrelid = to_regclass('public.' || req.ref) AND cardinality(k.conkey) = 1 AND a.attname = req.col
  ORDER BY k.convalidated DESC LIMIT 1) AS k ON true
WHERE k.oid IS NULL OR NOT k.convalidated
