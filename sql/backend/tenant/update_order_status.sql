UPDATE public.orders SET status = %(status)s, updated_at = now()
WHERE id = %(order_id)s AND coalesce(user_id, 1) = %(user_id)s
RETURNING id
