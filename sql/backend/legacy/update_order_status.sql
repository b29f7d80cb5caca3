UPDATE public.orders SET status = %(status)s, updated_at = now() WHERE id = %(order_id)s
RETURNING id
