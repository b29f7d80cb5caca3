-- expectations / 06_create_supporting_tables / supporting_foreign_keys
-- supporting tables reference users by user_id, and chatbots, contacts and orders by (user_id, id), validated
WITH p AS (SELECT * FROM {batch} AS batch),
req (tbl, cols, ref) AS (VALUES
    ('actions', ARRAY['user_id'], 'users'), ('products', ARRAY['user_id'], 'users'),
    ('usage_tracking', ARRAY['user_id'], 'users'), ('monthly_usage_summary', ARRAY['user_id'], 'users'),
    ('analytics_events', ARRAY['user_id'], 'users'), ('api_keys', ARRAY['user_id'], 'users'),
    ('webhooks', ARRAY['user_id'], 'users'), ('bot_knowledge_base', ARRAY['user_id'], 'users'),
    ('conversation_instructions', ARRAY['user_id'], 'users'), ('order_items', ARRAY['user_id'], 'users'),
    ('order_items', ARRAY['user_id', 'order_id'], 'orders'),
    ('actions', ARRAY['user_id', 'chatbot_id'], 'chatbots'), ('actions', ARRAY['user_id', 'contact_id'], 'contacts'),
    ('analytics_events', ARRAY['user_id', 'chatbot_id'], 'chatbots'),
    ('analytics_events', ARRAY['user_id', 'contact_id'], 'contacts'),
    ('webhooks', ARRAY['user_id', 'chatbot_id'], 'chatbots'),
    ('bot_knowledge_base', ARRAY['user_id', 'chatbot_id'], 'chatbots'),
    ('conversation_instructions', ARRAY['user_id', 'chatbot_id'], 'chatbots'),
    ('conversation_instructions', ARRAY['user_id', 'contact_id'], 'contacts'))
SELECT req.tbl, array_to_string(req.cols, ', ') AS columns, req.ref,
       CASE WHEN k.oid IS NULL THEN 'missing' ELSE 'not validated' END AS problem
FROM p CROSS JOIN req
LEFT JOIN LATERAL (SELECT k.oid, k.convalidated FROM pg_constraint AS k
  WHERE k.contype = 'f' AND k.conrelid = to_regclass('public.' || req.tbl)
    AND k.confrelid = to_regclass('public.' || req.ref)
    AND array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u (attnum, pos)
              JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.pos) = req.cols
  ORDER BY k.convalidated DESC LIMIT 1) AS k ON true
WHERE k.oid IS NULL OR NOT k.convalidated
