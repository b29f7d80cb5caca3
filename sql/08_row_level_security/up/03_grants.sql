-- 08_row_level_security / up / 03_grants
-- Requires: 08_row_level_security / up / 02_current_tenant_function
-- mode: generated
-- The application roles may use the tenant tables (tenant_migrate.tenant_tables; partitions are reached only
-- through their parent) and nothing else of the schema: no view (a view runs as its owner and would bypass
-- row-level security), no table of the app's that is not a tenant table. What they see of a tenant table is
-- decided by the policies of the next steps. A tenant reads its subscription (its limits)
-- and its user row, but cannot change them; it writes its own rows of every other tenant table. On the
-- sequences behind those tables: USAGE only (nextval), no SELECT. GRANT changes only the catalog; a privilege
-- the role already had is left as it was (and stays on rollback).

WITH tenant AS (SELECT table_name FROM tenant_migrate.tenant_tables)
SELECT format('GRANT %s ON public.%I TO tenant_app, tenant_legacy',
              CASE WHEN table_name IN ('users', 'user_subscriptions') THEN 'SELECT'
                   ELSE 'SELECT, INSERT, UPDATE, DELETE' END, table_name) AS statement,
       NULL AS note
FROM tenant
UNION ALL
SELECT format('GRANT USAGE ON SEQUENCE %s TO tenant_app, tenant_legacy', d.objid::regclass), NULL
FROM pg_depend AS d
JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
JOIN tenant ON d.refobjid = format('public.%I', tenant.table_name)::regclass
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
UNION ALL
SELECT 'GRANT USAGE ON SCHEMA public TO tenant_app, tenant_legacy', NULL
UNION ALL
SELECT 'GRANT EXECUTE ON FUNCTION public.app_current_tenant(), public.app_tenant_token(), public.app_set_tenant(bigint) '
       || 'TO tenant_app, tenant_legacy', NULL;
