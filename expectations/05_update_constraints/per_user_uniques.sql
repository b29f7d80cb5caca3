-- expectations / 05_update_constraints / per_user_uniques
-- per-user unique constraints on contacts (user_id, phone_number) and (user_id, thread_id), and (user_id, id) on
-- contacts and orders, which phase 6's tables reference
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, cols) AS (VALUES ('contacts', ARRAY['phone_number', 'user_id']), ('contacts', ARRAY['thread_id', 'user_id']),
                          ('contacts', ARRAY['id', 'user_id']), ('orders', ARRAY['id', 'user_id']))
SELECT req.tbl, array_to_string(req.cols, ', ') AS columns FROM p CROSS JOIN req
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint AS k
  WHERE k.conrelid = to_regclass('public.' || req.tbl) AND k.contype IN ('u', 'p')
    AND ARRAY(SELECT a.attname::text FROM pg_attribute AS a
              WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) ORDER BY a.attname) = req.cols)
