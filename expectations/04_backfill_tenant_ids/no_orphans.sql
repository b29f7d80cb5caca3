-- expectations / 04_backfill_tenant_ids / no_orphans
-- no orphans: every user_id is a user, every chatbot_id a chatbot of that same user, every contact_id a contact
WITH p AS (SELECT * FROM {batch} AS batch),
bad AS (
  SELECT 'contacts' AS table_name, count(*) AS orphan_rows FROM public.contacts AS t LEFT JOIN public.users AS u ON u.id = t.user_id
    LEFT JOIN public.chatbots AS b ON b.id = t.chatbot_id
    WHERE (t.user_id IS NOT NULL AND u.id IS NULL) OR (t.chatbot_id IS NOT NULL AND b.user_id IS DISTINCT FROM t.user_id) UNION ALL
  SELECT 'messages' AS table_name, count(*) AS orphan_rows FROM public.messages AS t LEFT JOIN public.users AS u ON u.id = t.user_id
    LEFT JOIN public.chatbots AS b ON b.id = t.chatbot_id
    WHERE (t.user_id IS NOT NULL AND u.id IS NULL) OR (t.chatbot_id IS NOT NULL AND b.user_id IS DISTINCT FROM t.user_id) UNION ALL
  SELECT 'orders' AS table_name, count(*) AS orphan_rows FROM public.orders AS t LEFT JOIN public.users AS u ON u.id = t.user_id
    LEFT JOIN public.chatbots AS b ON b.id = t.chatbot_id
    WHERE (t.user_id IS NOT NULL AND u.id IS NULL) OR (t.chatbot_id IS NOT NULL AND b.user_id IS DISTINCT FROM t.user_id) UNION ALL
  SELECT 'campaigns' AS table_name, count(*) AS orphan_rows FROM public.campaigns AS t LEFT JOIN public.users AS u ON u.id = t.user_id
    LEFT JOIN public.chatbots AS b ON b.id = t.chatbot_id
    WHERE (t.user_id IS NOT NULL AND u.id IS NULL) OR (t.chatbot_id IS NOT NULL AND b.user_id IS DISTINCT FROM t.user_id)
  UNION ALL
  SELECT 'messages.contact_id', count(*) FROM public.messages AS m WHERE m.contact_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM public.contacts AS c WHERE c.id = m.contact_id)
  UNION ALL
  SELECT 'orders.contact_id', count(*) FROM public.orders AS o WHERE o.contact_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM public.contacts AS c WHERE c.id = o.contact_id))
SELECT bad.table_name, bad.orphan_rows FROM p CROSS JOIN bad WHERE bad.orphan_rows > 0
