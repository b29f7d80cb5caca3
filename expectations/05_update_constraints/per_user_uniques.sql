-- expectations / 05_update_constraints / per_user_uniques
-- per-user unique keys on contacts (user_id, phone_number) and (user_id, thread_id) (a valid unique index led by
-- user_id, in the shape of the app's key it replaced; a constraint where it can be one), and (user_id, id) on
-- contacts and orders, which phase 6's tables reference
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, cols) AS (VALUES ('contacts', ARRAY['id', 'user_id']), ('orders', ARRAY['id', 'user_id']))
SELECT req.tbl, array_to_string(req.cols, ', ') AS columns FROM p CROSS JOIN req
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint AS k
  WHERE k.conrelid = to_regclass('public.' || req.tbl) AND k.contype IN ('u', 'p')
    AND ARRAY(SELECT a.attname::text FROM pg_attribute AS a
              WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) ORDER BY a.attname) = req.cols)
UNION ALL
SELECT 'contacts', u.key_name FROM p CROSS JOIN tenant_migrate.tenant_uniques AS u
WHERE NOT EXISTS (SELECT 1 FROM pg_index AS x
  JOIN pg_class AS i ON i.oid = x.indexrelid
  JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
  WHERE x.indrelid = to_regclass('public.contacts') AND i.relname = u.key_name AND x.indisunique AND x.indisvalid
    AND a.attname = 'user_id')
