-- expectations / 03_create_admin_user / sequences_past_max_id
-- the users and chatbots id sequences are past the highest id
WITH p AS (SELECT * FROM {batch} AS batch),
t AS (
  SELECT 'users' AS tbl, (SELECT max(id) FROM public.users) AS max_id, pg_get_serial_sequence('public.users', 'id') AS seq
  UNION ALL
  SELECT 'chatbots', (SELECT max(id) FROM public.chatbots), pg_get_serial_sequence('public.chatbots', 'id'))
SELECT t.tbl, t.seq, t.max_id, CASE WHEN t.seq IS NULL THEN NULL ELSE pg_sequence_last_value(t.seq::regclass) END AS last_value
FROM p CROSS JOIN t
WHERE t.seq IS NULL OR coalesce(pg_sequence_last_value(t.seq::regclass), 0) < coalesce(t.max_id, 0)
