SELECT id, phone_number, thread_id FROM public.contacts
WHERE phone_number = %(phone_number)s AND (user_id = %(user_id)s OR (%(unfilled)s AND user_id IS NULL AND %(user_id)s = 1))
