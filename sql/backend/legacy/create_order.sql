INSERT INTO public.orders (contact_id, message_id, order_details) VALUES (%(contact_id)s, %(message_id)s, %(order_details)s)
RETURNING id
