-- 08_row_level_security / up / 04_policies
-- Requires: 08_row_level_security / up / 03_grants
-- mode: generated
-- Two policies per tenant table (tenant_migrate.tenant_tables, in sql/ledger/schema.sql), created while
-- row-level security is still off, so they change nothing yet. One statement per transaction: CREATE
-- POLICY takes an ACCESS EXCLUSIVE lock on its table for about a millisecond.
-- - tenant_isolation, for every role: rows of app_current_tenant() only, for reads and writes;
-- - tenant_owner_all, for tenant_owner: every row (the migration, validation and backups).

WITH wanted (table_name, policy_name, statement) AS (
    SELECT table_name, 'tenant_isolation',
           format('CREATE POLICY tenant_isolation ON public.%I USING (%s) WITH CHECK (%s)', table_name,
                  format(tenant_rows, 'public.app_current_tenant()'), format(tenant_rows, 'public.app_current_tenant()'))
    FROM tenant_migrate.tenant_tables
    UNION ALL
    SELECT table_name, 'tenant_owner_all',
           format('CREATE POLICY tenant_owner_all ON public.%I TO tenant_owner USING (true) WITH CHECK (true)',
                  table_name)
    FROM tenant_migrate.tenant_tables
)
SELECT w.statement, NULL AS note
FROM wanted AS w
WHERE NOT EXISTS (
    SELECT 1 FROM pg_policies AS p
    WHERE p.schemaname = 'public' AND p.tablename = w.table_name AND p.policyname = w.policy_name
)
ORDER BY w.table_name, w.policy_name;
