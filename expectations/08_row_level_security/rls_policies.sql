-- expectations / 08_row_level_security / rls_policies
-- every tenant table has the policies tenant_isolation (all roles, USING and WITH CHECK on app_current_tenant()) and tenant_owner_all (tenant_owner)
WITH p AS (SELECT * FROM {batch} AS batch),
tt AS (
  SELECT t.table_name AS tbl, c.relrowsecurity, c.relforcerowsecurity FROM tenant_migrate.tenant_tables AS t
  JOIN pg_class AS c ON c.oid = ('public.' || quote_ident(t.table_name))::regclass)
SELECT tt.tbl, pol.name AS missing_policy FROM p CROSS JOIN tt CROSS JOIN (VALUES ('tenant_isolation'), ('tenant_owner_all')) AS pol (name)
WHERE NOT EXISTS (SELECT 1 FROM pg_policies AS x WHERE x.schemaname = 'public' AND x.tablename = tt.tbl AND x.policyname = pol.name
  AND (pol.name = 'tenant_owner_all' AND x.roles = ARRAY['tenant_owner']::name[] AND x.qual = 'true'
       OR pol.name = 'tenant_isolation' AND x.roles = ARRAY['public']::name[] AND x.qual = x.with_check
          AND x.qual LIKE '%app_current_tenant()%'))
