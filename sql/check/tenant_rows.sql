-- check / tenant_rows: one scan of {table}, counting its rows on another tenant than 1 (a row without a tenant yet
-- counts as tenant 1, where the plan puts it: phase 4's sweep).
SELECT count(*) FILTER (WHERE coalesce({user_id}, 1) <> 1 OR coalesce({chatbot_id}, 1) <> 1) AS off_tenant_1
FROM public.{table} AS t
