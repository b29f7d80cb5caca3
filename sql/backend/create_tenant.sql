-- A new tenant through the normal path: ids from the sequences (the user's claimed already on a cluster), a free
-- subscription, a first chatbot.
WITH new_user AS (
    INSERT INTO public.users (id, email, full_name, company_name, is_active)
    VALUES (coalesce(%(user_id)s, nextval(pg_get_serial_sequence('public.users', 'id'))), %(email)s, %(full_name)s,
            %(company_name)s, true)
    RETURNING id
),
subscription AS (
    INSERT INTO public.user_subscriptions (user_id, subscription_name, subscription_config, contract_start_date)
    SELECT id, 'Starter', '{"limits": {"unlimited": false}}', current_date FROM new_user
    RETURNING user_id
)
INSERT INTO public.chatbots (user_id, name, is_active)
SELECT user_id, %(chatbot_name)s, true FROM subscription
RETURNING user_id, id
