-- baseline / parts / 3_admin_user
-- Phase 3: the plan's own inserts.
-- Included (psql \ir) by plan_as_script.sql and physical_limit.sql.

INSERT INTO users (id, email, full_name, company_name, is_active)
VALUES (1, 'admin@swiftreplies.ai', 'Admin User', 'SwiftReplies Admin', true);

INSERT INTO user_subscriptions (
    user_id, subscription_name, subscription_config,
    daily_message_limit, monthly_message_limit,
    daily_campaign_limit, monthly_campaign_limit,
    contract_start_date, is_active
) VALUES (
    1, 'Admin Unlimited Plan',
    '{"features": {"all": true}, "limits": {"unlimited": true}}'::jsonb,
    999999, 999999, 999999, 999999,
    CURRENT_DATE, true
);

INSERT INTO chatbots (id, user_id, name, whatsapp_phone_number, general_instructions, is_active)
VALUES (1, 1, 'Default Admin Bot', 'YOUR_WHATSAPP_NUMBER', 'Admin testing bot', true);
