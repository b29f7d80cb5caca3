-- expectations / 06_create_supporting_tables / supporting_unique_keys
-- per-user unique keys of products, usage_tracking and monthly_usage_summary
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, cols) AS (VALUES ('products', ARRAY['sku', 'user_id']), ('usage_tracking', ARRAY['tracking_date', 'user_id']), ('monthly_usage_summary', ARRAY['month', 'user_id', 'year']))
SELECT req.tbl, array_to_string(req.cols, ', ') AS columns FROM p CROSS JOIN req
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint AS k
  WHERE k.conrelid = to_regclass('public.' || req.tbl) AND k.contype IN ('u', 'p')
    AND ARRAY(SELECT a.attname::text FROM pg_attribute AS a
              WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) ORDER BY a.attname) = req.cols)
