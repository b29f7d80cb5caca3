-- 08_row_level_security / up / 02_current_tenant_function
-- Requires: 08_row_level_security / up / 01_roles
-- mode: transaction
-- The tenant of the current transaction: 1 for members of tenant_legacy, whatever they set (the legacy backend
-- sees and writes only the admin tenant's rows); else app.tenant_id when set (the backend contract sets it per
-- transaction with set_config(..., true)); else NULL, which matches no row. A login role that is a member of
-- both tenant_legacy and tenant_app is the legacy backend.
-- STABLE is essential: the planner then evaluates it once per scan and can use it in an index
-- condition; left VOLATILE, the policies fell from 40k to 1.8 queries/s (notes/postgres-online-ddl.md).

CREATE OR REPLACE FUNCTION public.app_current_tenant() RETURNS bigint
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $fn$
    SELECT CASE WHEN pg_has_role(current_user, 'tenant_legacy', 'USAGE') THEN 1::bigint
                ELSE nullif(current_setting('app.tenant_id', true), '')::bigint END
$fn$;

COMMENT ON FUNCTION public.app_current_tenant() IS
    'tenant-migrate phase 8: the tenant that row-level security lets this transaction see';
