-- 08_row_level_security / up / 03_grants
-- Requires: 08_row_level_security / up / 02_current_tenant_function
-- mode: generated
-- The application roles may use the tenant tables (tenant_migrate.tenant_tables; partitions are reached only
-- through their parent) and nothing else of the schema: no view (a view runs as its owner and would bypass
-- row-level security), no table of the app's that is not a tenant table. What they see of a tenant table is
-- decided by the policies of the next steps. A tenant writes its own rows of every tenant table, except where a
-- column would give it power the platform decides (each table checked): it reads and never writes its user row and
-- subscription (its limits), its chatbots (the WhatsApp number that routes messages to it, is_active, bot_status),
-- its usage counters and monthly summaries (limits, overages, billing: it counts usage through count_usage(),
-- phase 6) and its API keys' rows (permissions, expiry, is_active; it may delete a key of its own, never create or
-- widen one). On the sequences behind those tables: USAGE only (nextval), no SELECT. GRANT changes only the
-- catalog; a privilege the role already had is left as it was (and stays on rollback). Only the tenant roles may
-- name a tenant (app_set_tenant: no EXECUTE for PUBLIC); app_current_tenant and app_tenant_token stay callable by
-- every role, since whoever reads a tenant table evaluates them in its policies. pg_catalog.format: the
-- migration's session searches public too, where a format(text, text) of anyone's would fit better.

WITH tenant AS (SELECT table_name FROM tenant_migrate.tenant_tables),
platform_decides (table_name, privileges) AS (
    VALUES ('users', 'SELECT'),
           ('user_subscriptions', 'SELECT'),
           ('chatbots', 'SELECT'),
           ('usage_tracking', 'SELECT'),
           ('monthly_usage_summary', 'SELECT'),
           ('api_keys', 'SELECT, DELETE')
)
SELECT pg_catalog.format('GRANT %s ON public.%I TO tenant_app, tenant_legacy',
              coalesce(p.privileges, 'SELECT, INSERT, UPDATE, DELETE'), tenant.table_name) AS statement,
       NULL AS note
FROM tenant
LEFT JOIN platform_decides AS p ON p.table_name = tenant.table_name
UNION ALL
SELECT pg_catalog.format('GRANT USAGE ON SEQUENCE %s TO tenant_app, tenant_legacy', d.objid::regclass), NULL
FROM pg_depend AS d
JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S'
JOIN tenant ON d.refobjid = pg_catalog.format('public.%I', tenant.table_name)::regclass
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
UNION ALL
SELECT 'GRANT USAGE ON SCHEMA public TO tenant_app, tenant_legacy', NULL
UNION ALL
SELECT 'REVOKE EXECUTE ON FUNCTION public.app_set_tenant(bigint) FROM PUBLIC', NULL
UNION ALL
SELECT 'GRANT EXECUTE ON FUNCTION public.app_current_tenant(), public.app_tenant_token(), public.app_set_tenant(bigint) '
       || 'TO tenant_app, tenant_legacy', NULL
UNION ALL
SELECT 'GRANT EXECUTE ON FUNCTION public.count_usage(text, integer) TO tenant_app, tenant_legacy', NULL;
