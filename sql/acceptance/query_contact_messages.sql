SELECT id, direction, content_text, sent_at FROM public.messages
WHERE user_id = %(user_id)s AND contact_id = %(contact_id)s
ORDER BY sent_at DESC
LIMIT 50
