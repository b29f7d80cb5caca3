INSERT INTO public.campaign_subscribers (user_id, campaign_id, contact_id)
SELECT %(user_id)s, k.id, c.id
FROM public.campaigns AS k
JOIN public.contacts AS c ON c.id = %(contact_id)s AND (c.user_id = %(user_id)s OR (%(unfilled)s AND c.user_id IS NULL AND %(user_id)s = 1))
    -- the same tenant on both sides (true already once no user_id is NULL): on a Citus cluster (phase 9) a join of two
    -- distributed tables must name their distribution columns as equal, or Citus refuses it as a Cartesian product
    AND (c.user_id = k.user_id OR %(unfilled)s)
WHERE k.id = %(campaign_id)s AND (k.user_id = %(user_id)s OR (%(unfilled)s AND k.user_id IS NULL AND %(user_id)s = 1))
ON CONFLICT DO NOTHING
RETURNING id
