-- The backend counts an inbound message in today's usage row of its tenant.
INSERT INTO public.usage_tracking (user_id, tracking_date, daily_messages_received)
VALUES (%(user_id)s, current_date, 1)
ON CONFLICT (user_id, tracking_date)
    DO UPDATE SET daily_messages_received = usage_tracking.daily_messages_received + 1, updated_at = now()
RETURNING daily_messages_received
