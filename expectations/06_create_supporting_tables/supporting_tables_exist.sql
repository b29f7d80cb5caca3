-- expectations / 06_create_supporting_tables / supporting_tables_exist
-- tables exist: actions, order_items, products, usage_tracking, monthly_usage_summary, analytics_events, api_keys, webhooks, bot_knowledge_base, conversation_instructions
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT t.name AS missing_table FROM p CROSS JOIN unnest(ARRAY['actions', 'order_items', 'products', 'usage_tracking', 'monthly_usage_summary', 'analytics_events', 'api_keys', 'webhooks', 'bot_knowledge_base', 'conversation_instructions']) AS t (name)
WHERE to_regclass('public.' || t.name) IS NULL
