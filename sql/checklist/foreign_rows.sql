-- For each tenant table (the rule of phase 8's policies), a statement counting the rows visible to the
-- current role that do not belong to tenant %(user_id)s, and one counting those that do.
SELECT c.relname AS table_name,
       format('SELECT count(*) FILTER (WHERE NOT (%%1$s)), count(*) FILTER (WHERE %%1$s) FROM public.%%2$I',
              CASE
                  WHEN c.relname = 'users' THEN format('id = %%s', %(user_id)s::bigint)
                  WHEN c.relname = 'campaign_subscribers' THEN format(
                      'EXISTS (SELECT 1 FROM public.campaigns AS k WHERE k.id = campaign_id AND k.user_id = %%s)',
                      %(user_id)s::bigint)
                  ELSE format('user_id = %%s', %(user_id)s::bigint)
              END, c.relname) AS statement
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
    AND (c.relname IN ('users', 'campaign_subscribers')
         OR EXISTS (SELECT 1 FROM pg_attribute AS a
                    WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped))
ORDER BY c.relname
