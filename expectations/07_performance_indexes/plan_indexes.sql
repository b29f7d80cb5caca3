-- expectations / 07_performance_indexes / plan_indexes
-- every index of the plan exists and is valid, or an existing valid index leads with the same columns
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, cols) AS (VALUES ('contacts', ARRAY['user_id']), ('messages', ARRAY['user_id']), ('orders', ARRAY['user_id']), ('campaigns', ARRAY['user_id']), ('actions', ARRAY['user_id']), ('contacts', ARRAY['user_id', 'phone_number']), ('contacts', ARRAY['user_id', 'thread_id']), ('usage_tracking', ARRAY['user_id', 'tracking_date']), ('messages', ARRAY['sent_at']), ('actions', ARRAY['status']), ('analytics_events', ARRAY['user_id', 'event_type']))
SELECT req.tbl, array_to_string(req.cols, ', ') AS columns FROM p CROSS JOIN req
WHERE NOT EXISTS (SELECT 1 FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
  JOIN pg_am AS am ON am.oid = i.relam
  WHERE x.indrelid = to_regclass('public.' || req.tbl) AND x.indisvalid AND x.indisready
    AND x.indpred IS NULL AND am.amname = 'btree' AND x.indnkeyatts >= cardinality(req.cols)
    AND ARRAY(SELECT coalesce(a.attname::text, '?') FROM generate_subscripts(req.cols, 1) AS g (n)
              LEFT JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[g.n - 1]
              ORDER BY g.n) = req.cols)
