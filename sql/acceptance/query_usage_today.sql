SELECT daily_messages_sent, daily_messages_received, daily_campaigns_sent, api_calls_made
FROM public.usage_tracking
WHERE user_id = %(user_id)s AND tracking_date = current_date
