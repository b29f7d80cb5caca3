INSERT INTO public.campaign_subscribers (campaign_id, contact_id) VALUES (%(campaign_id)s, %(contact_id)s)
ON CONFLICT (campaign_id, contact_id) DO NOTHING
RETURNING id
