-- ownership / unsafe_roles: application roles of phase 8 that exist and would defeat row-level security.
SELECT r.rolname FROM pg_roles AS r
WHERE r.rolname IN ('tenant_app', 'tenant_legacy') AND (r.rolsuper OR r.rolbypassrls);
