INSERT INTO public.contacts (phone_number, name) VALUES (%(phone_number)s, %(name)s)
ON CONFLICT DO NOTHING
RETURNING id, phone_number, thread_id
