INSERT INTO public.orders (contact_id, message_id, order_details, user_id, chatbot_id)
SELECT c.id, %(message_id)s, %(order_details)s, %(user_id)s, %(chatbot_id)s
FROM public.contacts AS c
WHERE c.id = %(contact_id)s AND (c.user_id = %(user_id)s OR (%(unfilled)s AND c.user_id IS NULL AND %(user_id)s = 1))
RETURNING id
