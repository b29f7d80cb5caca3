-- 08_row_level_security / down / 03_revoke_grants
-- Requires: 08_row_level_security / down / 02_drop_policies
-- mode: transaction
-- Take back this database's grants to tenant_app and tenant_legacy. The roles themselves stay: they
-- are cluster-wide and may serve other databases (drop them by hand with DROP ROLE when unused).

DO $revoke$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['tenant_app', 'tenant_legacy'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', r);
            EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', r);
            EXECUTE format('REVOKE USAGE ON SCHEMA public FROM %I', r);
        END IF;
    END LOOP;
END
$revoke$;
