SELECT status FROM public.orders WHERE id = %(order_id)s AND coalesce(user_id, 1) = %(user_id)s
