-- Does the tenant exist yet (phase 3 creates the admin tenant 1), and does the chatbot, if one is named, belong to it?
SELECT EXISTS (SELECT 1 FROM public.users WHERE id = %(user_id)s) AS tenant_exists,
       %(chatbot_id)s::bigint IS NULL
           OR EXISTS (SELECT 1 FROM public.chatbots WHERE id = %(chatbot_id)s AND user_id = %(user_id)s) AS chatbot_ok
