UPDATE public.orders SET status = %(status)s, updated_at = now()
WHERE id = %(order_id)s AND (user_id = %(user_id)s OR (%(unfilled)s AND user_id IS NULL AND %(user_id)s = 1))
RETURNING id
