-- 08_row_level_security / up / 03_grants
-- Requires: 08_row_level_security / up / 02_current_tenant_function
-- mode: transaction
-- The application roles may read and write the tenant tables and use their sequences; what they see
-- of them is decided by the policies of the next steps. GRANT changes only the catalog.

GRANT USAGE ON SCHEMA public TO tenant_app, tenant_legacy;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tenant_app, tenant_legacy;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO tenant_app, tenant_legacy;
GRANT EXECUTE ON FUNCTION public.app_current_tenant() TO tenant_app, tenant_legacy;
