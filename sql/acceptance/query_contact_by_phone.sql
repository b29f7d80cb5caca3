SELECT id, thread_id FROM public.contacts WHERE user_id = %(user_id)s AND phone_number = %(phone_number)s
