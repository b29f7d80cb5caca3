-- check / cross_tenant_references: the rows of {table} whose {column} names a row of {referenced} of another tenant
-- (a row without a tenant yet counts as tenant 1): the composite reference phase 5 validates, ({column} carrying
-- the tenant), would refuse them. Run only when one of the two tables has rows off tenant 1.
SELECT count(*) AS rows, (array_agg(t.id::text ORDER BY t.id))[1:5] AS examples
FROM public.{table} AS t
JOIN public.{referenced} AS r ON r.id = t.{column}
WHERE coalesce(t.user_id, 1) <> coalesce(r.user_id, 1)
