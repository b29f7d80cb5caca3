-- For each tenant table, a statement counting the rows visible to the current role that do not belong to
-- tenant %(user_id)s, and those that do.
SELECT table_name,
       format('SELECT count(*) FILTER (WHERE NOT (%%1$s)), count(*) FILTER (WHERE %%1$s) FROM public.%%2$I',
              format(tenant_rows, %(user_id)s::bigint), table_name) AS statement
FROM tenant_migrate.tenant_tables
ORDER BY table_name
