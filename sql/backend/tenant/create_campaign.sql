INSERT INTO public.campaigns (name, message_template, user_id, chatbot_id)
VALUES (%(name)s, %(message_template)s, %(user_id)s, %(chatbot_id)s)
RETURNING id
