-- 08_row_level_security / down / 03_revoke_grants
-- Requires: 08_row_level_security / down / 02_drop_policies
-- mode: transaction
-- Take back this database's grants to tenant_app. The roles themselves stay: they are cluster-wide
-- and may serve other databases (drop them by hand with DROP ROLE when no database uses them).

DO $revoke$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenant_app') THEN
        REVOKE ALL ON ALL TABLES IN SCHEMA public FROM tenant_app;
        REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM tenant_app;
        REVOKE USAGE ON SCHEMA public FROM tenant_app;
    END IF;
END
$revoke$;
