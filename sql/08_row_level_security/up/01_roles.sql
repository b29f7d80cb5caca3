-- 08_row_level_security / up / 01_roles
-- Requires: 07_performance_indexes
-- mode: transaction
-- Three group roles (NOLOGIN; roles are cluster-wide, so they are created only when missing and the
-- down script leaves them for the other databases that may use them):
-- - tenant_app: the multi-tenant application; subject to row-level security; sees the tenant named
--   by the transaction's app.tenant_id setting, and nothing when it is unset (fails closed);
-- - tenant_legacy: the legacy single-tenant backend; same privileges as tenant_app, but its default
--   tenant, when app.tenant_id is unset, is the admin tenant 1 (see app_current_tenant);
-- - tenant_owner: the migration/owner roles; one policy per table lets it see every row.
-- A role of these names that is superuser or BYPASSRLS would silently defeat the isolation: refused.
-- The running role joins all three (unless superuser, which bypasses row-level security anyway), so
-- it keeps seeing every row and can SET ROLE to the application roles in the phase-8 checks. It must inherit their
-- privileges (USAGE), not only hold them: on PostgreSQL 16+ a CREATEROLE role (a managed service's admin) that
-- creates a role is made its member WITH ADMIN but without INHERIT, under which tenant_owner's policy would not
-- apply to it, so it grants them to itself again.

DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['tenant_app', 'tenant_legacy', 'tenant_owner'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        ELSIF r <> 'tenant_owner' AND EXISTS (
            SELECT 1 FROM pg_roles WHERE rolname = r AND (rolsuper OR rolbypassrls)
        ) THEN
            RAISE EXCEPTION 'role % exists and bypasses row-level security (superuser or BYPASSRLS): '
                'ALTER ROLE % NOSUPERUSER NOBYPASSRLS, then retry', r, r;
        END IF;
    END LOOP;
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        FOREACH r IN ARRAY ARRAY['tenant_owner', 'tenant_app', 'tenant_legacy'] LOOP
            IF NOT pg_has_role(current_user, r, 'USAGE') THEN
                EXECUTE format('GRANT %I TO %I', r, current_user);
            END IF;
        END LOOP;
    END IF;
END
$roles$;
