-- expectations / 08_row_level_security / login_roles_confined
-- every login role that can read contacts is confined (tenant_legacy / tenant_app), owner-exempt (tenant_owner), or bypasses row-level security by design (superuser, BYPASSRLS)
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT r.rolname AS unconfined_role FROM p CROSS JOIN pg_roles AS r
WHERE r.rolcanlogin AND NOT r.rolsuper AND NOT r.rolbypassrls AND r.rolname NOT LIKE 'pg\_%'
  AND has_table_privilege(r.oid, 'public.contacts', 'SELECT')
  AND NOT EXISTS (SELECT 1 FROM pg_roles AS g WHERE g.rolname IN ('tenant_legacy', 'tenant_app', 'tenant_owner') AND pg_has_role(r.oid, g.oid, 'USAGE'))
