-- expectations / 01_create_core_tables / core_tables_exist
-- tables exist: users, user_subscriptions, chatbots
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT t.name AS missing_table FROM p CROSS JOIN unnest(ARRAY['users', 'user_subscriptions', 'chatbots']) AS t (name)
WHERE to_regclass('public.' || t.name) IS NULL
