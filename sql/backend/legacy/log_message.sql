INSERT INTO public.messages (contact_id, message_id, direction, message_type, content_text, status, metadata)
VALUES (%(contact_id)s, %(message_id)s, %(direction)s, %(message_type)s, %(content_text)s, %(status)s, %(metadata)s)
RETURNING id
