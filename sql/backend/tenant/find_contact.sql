SELECT id, phone_number, thread_id FROM public.contacts
WHERE phone_number = %(phone_number)s AND coalesce(user_id, 1) = %(user_id)s
