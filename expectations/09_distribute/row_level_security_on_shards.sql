-- expectations / 09_distribute / row_level_security_on_shards
-- every shard of every tenant table has row-level security enabled and forced and the two policies of phase 8
-- (tenant_isolation, tenant_owner_all): the workers confine a tenant as the coordinator did; and every worker has
-- app_current_tenant(), which the policies call
WITH p AS (SELECT * FROM {batch} AS batch),
shard AS (
    SELECT t.table_name, s.shardid, s.result
    FROM tenant_migrate.tenant_tables AS t
    CROSS JOIN LATERAL run_command_on_shards(
        format('public.%I', t.table_name),
        $$SELECT (SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = '%1$s'::regclass)::text
                 || ':' || (SELECT string_agg(polname, ',' ORDER BY polname) FROM pg_policy
                            WHERE polrelid = '%1$s'::regclass)$$) AS s
)
SELECT shard.table_name, shard.shardid, shard.result
FROM p CROSS JOIN shard
WHERE shard.result IS DISTINCT FROM 'true:tenant_isolation,tenant_owner_all'
UNION ALL
SELECT 'app_current_tenant()', NULL, w.nodename || ':' || w.nodeport || ' ' || w.result
FROM p CROSS JOIN run_command_on_workers($$SELECT to_regprocedure('public.app_current_tenant()') IS NOT NULL$$) AS w
WHERE w.result IS DISTINCT FROM 't'
