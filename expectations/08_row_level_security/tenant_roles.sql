-- expectations / 08_row_level_security / tenant_roles
-- roles tenant_app, tenant_legacy and tenant_owner exist, and tenant_app and tenant_legacy do not bypass row-level security
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT r.name, x.rolsuper, x.rolbypassrls FROM p CROSS JOIN (VALUES ('tenant_app'), ('tenant_legacy'), ('tenant_owner')) AS r (name)
LEFT JOIN pg_roles AS x ON x.rolname = r.name
WHERE x.oid IS NULL OR (r.name <> 'tenant_owner' AND (x.rolsuper OR x.rolbypassrls))
