-- expectations / 08_row_level_security / tenant_role_grants
-- tenant_app and tenant_legacy may SELECT, INSERT, UPDATE and DELETE every tenant table
WITH p AS (SELECT * FROM {batch} AS batch),
tt AS (
  SELECT t.table_name AS tbl, c.relrowsecurity, c.relforcerowsecurity FROM tenant_migrate.tenant_tables AS t
  JOIN pg_class AS c ON c.oid = ('public.' || quote_ident(t.table_name))::regclass)
SELECT tt.tbl, r.name AS role_name, priv.name AS missing_privilege FROM p CROSS JOIN tt CROSS JOIN (VALUES ('tenant_app'), ('tenant_legacy')) AS r (name)
CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE')) AS priv (name)
WHERE NOT has_table_privilege(r.name, 'public.' || quote_ident(tt.tbl), priv.name)
