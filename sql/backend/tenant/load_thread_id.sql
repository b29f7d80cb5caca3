SELECT thread_id FROM public.contacts WHERE id = %(contact_id)s AND (user_id = %(user_id)s OR (%(unfilled)s AND user_id IS NULL AND %(user_id)s = 1))
