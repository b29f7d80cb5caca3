INSERT INTO public.messages (
    contact_id, message_id, direction, message_type, content_text, status, metadata, user_id, chatbot_id
)
SELECT c.id, %(message_id)s, %(direction)s, %(message_type)s, %(content_text)s, %(status)s, %(metadata)s,
       %(user_id)s, %(chatbot_id)s
FROM public.contacts AS c
WHERE c.id = %(contact_id)s AND (c.user_id = %(user_id)s OR (%(unfilled)s AND c.user_id IS NULL AND %(user_id)s = 1))
RETURNING id
