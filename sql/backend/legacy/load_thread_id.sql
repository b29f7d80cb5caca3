SELECT thread_id FROM public.contacts WHERE id = %(contact_id)s
