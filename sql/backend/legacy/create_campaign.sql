INSERT INTO public.campaigns (name, message_template) VALUES (%(name)s, %(message_template)s)
RETURNING id
