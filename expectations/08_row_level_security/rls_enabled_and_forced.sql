-- expectations / 08_row_level_security / rls_enabled_and_forced
-- row-level security is enabled and forced on every tenant table (every table with user_id, users, campaign_subscribers)
WITH p AS (SELECT * FROM {batch} AS batch),
tt AS (
  SELECT t.table_name AS tbl, c.relrowsecurity, c.relforcerowsecurity FROM tenant_migrate.tenant_tables AS t
  JOIN pg_class AS c ON c.oid = ('public.' || quote_ident(t.table_name))::regclass)
SELECT tt.tbl, tt.relrowsecurity AS enabled, tt.relforcerowsecurity AS forced FROM p CROSS JOIN tt
WHERE NOT (tt.relrowsecurity AND tt.relforcerowsecurity)
