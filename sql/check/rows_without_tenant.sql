-- check / rows_without_tenant: the ids of up to five rows of {table} without a tenant id ({user_id} or {chatbot_id}
-- NULL), once sql/check/tenant_rows.sql counted some where NOT NULL is due.
SELECT t.id::text FROM public.{table} AS t WHERE {user_id} IS NULL OR {chatbot_id} IS NULL LIMIT 5
