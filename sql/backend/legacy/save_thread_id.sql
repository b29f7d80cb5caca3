UPDATE public.contacts SET thread_id = %(thread_id)s, updated_at = now() WHERE id = %(contact_id)s
RETURNING id
