INSERT INTO public.analytics_events (user_id, chatbot_id, contact_id, event_type, event_data)
VALUES (%(user_id)s, %(chatbot_id)s, %(contact_id)s, 'message_received', '{"checklist": true}')
RETURNING id
