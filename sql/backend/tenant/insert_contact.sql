INSERT INTO public.contacts (phone_number, name, user_id, chatbot_id)
VALUES (%(phone_number)s, %(name)s, %(user_id)s, %(chatbot_id)s)
ON CONFLICT DO NOTHING
RETURNING id, phone_number, thread_id
