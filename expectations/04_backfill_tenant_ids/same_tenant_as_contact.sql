-- expectations / 04_backfill_tenant_ids / same_tenant_as_contact
-- every message, order and campaign subscription belongs to the same tenant as its contact (and a subscription to
-- its campaign's)
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT 'messages' AS table_name, count(*) AS mismatched_rows FROM public.messages AS m
  JOIN public.contacts AS c ON c.id = m.contact_id WHERE m.user_id IS DISTINCT FROM c.user_id HAVING count(*) > 0
UNION ALL
SELECT 'orders', count(*) FROM public.orders AS o
  JOIN public.contacts AS c ON c.id = o.contact_id WHERE o.user_id IS DISTINCT FROM c.user_id HAVING count(*) > 0
UNION ALL
SELECT 'campaign_subscribers', count(*) FROM public.campaign_subscribers AS cs
  JOIN public.campaigns AS ca ON ca.id = cs.campaign_id JOIN public.contacts AS c ON c.id = cs.contact_id
  WHERE ca.user_id IS DISTINCT FROM c.user_id OR cs.user_id IS DISTINCT FROM c.user_id HAVING count(*) > 0
