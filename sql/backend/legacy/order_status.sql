SELECT status FROM public.orders WHERE id = %(order_id)s
