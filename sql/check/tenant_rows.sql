-- check / tenant_rows: one scan of {table}, counting its rows without a tenant id ({user_id} or {chatbot_id} NULL)
-- and its rows on another tenant than 1 (a row without a tenant yet counts as tenant 1, where the plan puts it).
SELECT count(*) FILTER (WHERE {user_id} IS NULL OR {chatbot_id} IS NULL) AS without_tenant,
       count(*) FILTER (WHERE coalesce({user_id}, 1) <> 1 OR coalesce({chatbot_id}, 1) <> 1) AS off_tenant_1
FROM public.{table} AS t
