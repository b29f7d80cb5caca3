SELECT id, phone_number, thread_id FROM public.contacts WHERE phone_number = %(phone_number)s
