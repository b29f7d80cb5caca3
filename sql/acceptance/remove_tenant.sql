-- acceptance / remove_tenant: the statements that delete every row of one tenant (their parameter) from the tenant
-- tables, each table after the tenant tables that reference it (the longest chain of references first). The checklist removes
-- with them the tenants it committed on a Citus cluster (tenant_migrate/acceptance/checks.py, committed_tenants).
WITH RECURSIVE edge AS (
    SELECT c.relname::text AS child, r.relname::text AS parent
    FROM pg_constraint AS k
    JOIN pg_class AS c ON c.oid = k.conrelid
    JOIN pg_class AS r ON r.oid = k.confrelid
    WHERE k.contype = 'f' AND k.conrelid <> k.confrelid AND c.relnamespace = 'public'::regnamespace
        AND r.relnamespace = 'public'::regnamespace
        AND c.relname IN (SELECT table_name FROM tenant_migrate.tenant_tables)
        AND r.relname IN (SELECT table_name FROM tenant_migrate.tenant_tables)
),
depth (table_name, depth) AS (
    SELECT table_name, 0 FROM tenant_migrate.tenant_tables
    UNION ALL
    SELECT edge.child, depth.depth + 1 FROM edge JOIN depth ON edge.parent = depth.table_name
    WHERE depth.depth < 100
)
SELECT format('DELETE FROM public.%I WHERE %s', t.table_name, format(t.tenant_rows, '%s')) AS statement
FROM tenant_migrate.tenant_tables AS t
JOIN depth AS d USING (table_name)
GROUP BY t.table_name, t.tenant_rows
ORDER BY max(d.depth) DESC, t.table_name
