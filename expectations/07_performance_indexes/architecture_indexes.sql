-- expectations / 07_performance_indexes / architecture_indexes
-- the architecture's extra indexes (chatbot_id; actions (user_id, status); chatbots (user_id, is_active)) exist or are covered
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, cols) AS (VALUES ('contacts', ARRAY['chatbot_id']), ('messages', ARRAY['chatbot_id']), ('orders', ARRAY['chatbot_id']), ('actions', ARRAY['user_id', 'status']), ('chatbots', ARRAY['user_id', 'is_active']))
SELECT req.tbl, array_to_string(req.cols, ', ') AS columns FROM p CROSS JOIN req
WHERE NOT EXISTS (SELECT 1 FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
  JOIN pg_am AS am ON am.oid = i.relam
  WHERE x.indrelid = to_regclass('public.' || req.tbl) AND x.indisvalid AND x.indisready
    AND x.indpred IS NULL AND am.amname = 'btree' AND x.indnkeyatts >= cardinality(req.cols)
    AND ARRAY(SELECT coalesce(a.attname::text, '?') FROM generate_subscripts(req.cols, 1) AS g (n)
              LEFT JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[g.n - 1]
              ORDER BY g.n) = req.cols)
