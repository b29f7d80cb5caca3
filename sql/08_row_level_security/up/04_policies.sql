-- 08_row_level_security / up / 04_policies
-- Requires: 08_row_level_security / up / 03_grants
-- mode: generated
-- Two policies per tenant table, created while row-level security is still off (so they change
-- nothing yet). Tenant tables: every public table with a user_id column (the policy compares it),
-- users (its id is the tenant) and campaign_subscribers (no user_id: a row belongs to the tenant of
-- its campaign, which the campaigns policy already decides). One statement per transaction: CREATE
-- POLICY takes an ACCESS EXCLUSIVE lock on its table for about a millisecond.
-- - tenant_isolation, for every role: rows of app_current_tenant() only, for reads and writes;
-- - tenant_owner_all, for tenant_owner: every row (the migration, validation and backups).

WITH tenant_tables (table_name, tenant_rows) AS (
    SELECT c.relname::text,
           CASE
               WHEN c.relname = 'users' THEN 'id = public.app_current_tenant()'
               WHEN c.relname = 'campaign_subscribers'
                   THEN 'EXISTS (SELECT 1 FROM public.campaigns AS c WHERE c.id = campaign_id)'
               ELSE 'user_id = public.app_current_tenant()'
           END
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
        AND (c.relname IN ('users', 'campaign_subscribers')
             OR EXISTS (SELECT 1 FROM pg_attribute AS a
                        WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped))
),
wanted (table_name, policy_name, statement) AS (
    SELECT table_name, 'tenant_isolation',
           format('CREATE POLICY tenant_isolation ON public.%I USING (%s) WITH CHECK (%s)',
                  table_name, tenant_rows, tenant_rows)
    FROM tenant_tables
    UNION ALL
    SELECT table_name, 'tenant_owner_all',
           format('CREATE POLICY tenant_owner_all ON public.%I TO tenant_owner USING (true) WITH CHECK (true)',
                  table_name)
    FROM tenant_tables
)
SELECT w.statement, NULL AS note
FROM wanted AS w
WHERE NOT EXISTS (
    SELECT 1 FROM pg_policies AS p
    WHERE p.schemaname = 'public' AND p.tablename = w.table_name AND p.policyname = w.policy_name
)
ORDER BY w.table_name, w.policy_name;
