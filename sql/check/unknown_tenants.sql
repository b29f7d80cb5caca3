-- check / unknown_tenants: the rows of {table} whose tenant ids the foreign keys of phase 4 would refuse: a user_id
-- not in users, or a (user_id, chatbot_id) not in chatbots ({has_chatbot}: whether the table has a chatbot_id). A
-- row without a tenant yet gets user 1 / chatbot 1, which phase 3 creates. Run only when the table has rows off
-- tenant 1 (sql/check/tenant_rows.sql).
SELECT count(*) AS rows, (array_agg(t.id::text ORDER BY t.id))[1:5] AS examples
FROM public.{table} AS t
WHERE (coalesce({user_id}, 1) <> 1 OR coalesce({chatbot_id}, 1) <> 1)
    AND (NOT EXISTS (SELECT 1 FROM public.users AS u WHERE u.id = coalesce({user_id}, 1))
         OR {has_chatbot} AND NOT EXISTS (SELECT 1 FROM public.chatbots AS c
                                          WHERE c.user_id = coalesce({user_id}, 1)
                                              AND c.id = coalesce({chatbot_id}, 1)))
