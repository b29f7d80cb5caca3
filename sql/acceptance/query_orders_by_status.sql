SELECT id, contact_id, status, created_at FROM public.orders
WHERE user_id = %(user_id)s AND status = %(status)s
ORDER BY created_at DESC
LIMIT 50
