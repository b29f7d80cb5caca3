INSERT INTO public.campaign_subscribers (user_id, campaign_id, contact_id)
SELECT %(user_id)s, k.id, c.id
FROM public.campaigns AS k
JOIN public.contacts AS c ON c.id = %(contact_id)s AND coalesce(c.user_id, 1) = %(user_id)s
WHERE k.id = %(campaign_id)s AND coalesce(k.user_id, 1) = %(user_id)s
ON CONFLICT (campaign_id, contact_id) DO NOTHING
RETURNING id
