SELECT thread_id FROM public.contacts WHERE id = %(contact_id)s AND coalesce(user_id, 1) = %(user_id)s
