-- expectations / 03_create_admin_user / admin_subscription
-- user 1 has an active unlimited subscription
WITH p AS (SELECT * FROM {batch})
SELECT 'no active unlimited subscription for user 1' AS problem FROM p WHERE NOT EXISTS (
  SELECT 1 FROM public.user_subscriptions AS s WHERE s.user_id = 1 AND s.is_active
    AND (s.subscription_config -> 'limits' ->> 'unlimited') = 'true'
    AND s.daily_message_limit >= 999999 AND s.monthly_message_limit >= 999999
    AND s.daily_campaign_limit >= 999999 AND s.monthly_campaign_limit >= 999999
    AND (s.contract_end_date IS NULL OR s.contract_end_date >= current_date))
