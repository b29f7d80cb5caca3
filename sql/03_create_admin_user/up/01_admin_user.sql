-- 03_create_admin_user / up / 01_admin_user
-- Requires: 02_add_tenant_columns
-- mode: transaction
-- Admin user id 1, its unlimited subscription (id 1) and default chatbot id 1, from the runner's
-- session settings (the plan's values when a setting is unset). Touches only the new tables.
-- Idempotent: ON CONFLICT DO NOTHING; the setvals below are safe to repeat.

INSERT INTO users (id, email, full_name, company_name, is_active)
VALUES (
    1,
    coalesce(nullif(current_setting('tenant_migrate.admin_email', true), ''), 'admin@swiftreplies.ai'),
    coalesce(nullif(current_setting('tenant_migrate.admin_full_name', true), ''), 'Admin User'),
    coalesce(nullif(current_setting('tenant_migrate.admin_company_name', true), ''), 'SwiftReplies Admin'),
    true
)
ON CONFLICT DO NOTHING;

INSERT INTO user_subscriptions (
    id, user_id, subscription_name, subscription_config,
    daily_message_limit, monthly_message_limit, daily_campaign_limit, monthly_campaign_limit,
    contract_start_date, is_active
)
VALUES (
    1, 1, 'Admin Unlimited Plan', '{"features": {"all": true}, "limits": {"unlimited": true}}',
    999999, 999999, 999999, 999999,
    current_date, true
)
ON CONFLICT DO NOTHING;

INSERT INTO chatbots (id, user_id, name, whatsapp_phone_number, general_instructions, is_active)
VALUES (
    1, 1, 'Default Admin Bot',
    coalesce(nullif(current_setting('tenant_migrate.admin_whatsapp_number', true), ''), 'YOUR_WHATSAPP_NUMBER'),
    'Admin testing bot', true
)
ON CONFLICT DO NOTHING;

-- The rows above took explicit ids: move each identity up to max(id), never backwards, so that the
-- next tenant created with a default id does not collide with them.
SELECT setval(seq, greatest(max_id, coalesce(pg_sequence_last_value(seq), 0)))
FROM (VALUES
    (pg_get_serial_sequence('public.users', 'id')::regclass, (SELECT max(id) FROM users)),
    (pg_get_serial_sequence('public.user_subscriptions', 'id')::regclass, (SELECT max(id) FROM user_subscriptions)),
    (pg_get_serial_sequence('public.chatbots', 'id')::regclass, (SELECT max(id) FROM chatbots))
) AS s (seq, max_id)
WHERE max_id IS NOT NULL;
