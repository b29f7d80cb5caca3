-- expectations / 01_create_core_tables / core_unique_keys
-- users.email and chatbots.whatsapp_phone_number are unique; chatbots (user_id, id) too (the tenant tables'
-- chatbot references point at it)
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, cols) AS (VALUES ('users', ARRAY['email']), ('chatbots', ARRAY['whatsapp_phone_number']),
                          ('chatbots', ARRAY['id', 'user_id']))
SELECT req.tbl, array_to_string(req.cols, ', ') AS columns FROM p CROSS JOIN req
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint AS k
  WHERE k.conrelid = to_regclass('public.' || req.tbl) AND k.contype IN ('u', 'p')
    AND ARRAY(SELECT a.attname::text FROM pg_attribute AS a
              WHERE a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) ORDER BY a.attname) = req.cols)
