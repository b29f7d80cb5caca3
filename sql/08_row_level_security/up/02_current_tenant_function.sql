-- 08_row_level_security / up / 02_current_tenant_function
-- Requires: 08_row_level_security / up / 01_roles
-- mode: transaction
-- The tenant of the current transaction, which the policies of step 04 compare every row with. A tenant is named
-- for one transaction only, so that a value left on a pooled server connection (a client's session-level SET, an
-- easy mistake behind PgBouncer in transaction mode) reaches no other client: it fails closed (docs/poolers.md).
-- - app_set_tenant(tenant): the app's one statement per transaction, first in it. It sets app.tenant_id, locally,
--   to '<tenant>/<token of this transaction>' and returns the tenant.
-- - app_tenant_token(): what "this transaction" is: its start time in microseconds since 1970 (transaction_timestamp:
--   new for every transaction of a server process, the same in its parallel workers, and also on a read-only
--   standby, where no transaction id can be assigned). A Citus variant redefines this one function (a token that
--   the coordinator and the workers agree on) and app_set_tenant (SET LOCAL, which Citus passes to the workers).
-- - app_current_tenant(): 1 for members of tenant_legacy, whatever they set (the legacy backend sees and writes only
--   the admin tenant's rows); else the tenant of app.tenant_id when its token is this transaction's; else NULL,
--   which matches no row: no tenant named, a plain value ('7', from SET or set_config), or one named in another
--   transaction. A login role that is a member of both tenant_legacy and tenant_app is the legacy backend.
-- Hardened against a login that may create objects on its search_path (a function pg_has_role, an operator =):
-- every name is schema-qualified and the bodies are SQL-standard (BEGIN ATOMIC), so PostgreSQL binds every
-- function and operator when the function is created, never by the caller's search_path. The two STABLE functions
-- have no SET clause on purpose: it would stop the planner from inlining them into the policies (measured on
-- PostgreSQL 18: 3.6 us a call with SET search_path, 0.8 us inlined; docs/poolers.md). STABLE is essential: the
-- planner then evaluates the tenant once per index scan; left VOLATILE, the policies fell from 40k to 1.8
-- queries/s (notes/postgres-online-ddl.md).

CREATE OR REPLACE FUNCTION public.app_tenant_token() RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT (EXTRACT(epoch FROM pg_catalog.transaction_timestamp()) OPERATOR(pg_catalog.*) 1000000)::bigint::text;
END;

CREATE OR REPLACE FUNCTION public.app_current_tenant() RETURNS bigint
LANGUAGE sql
STABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
        WHEN pg_catalog.pg_has_role(CURRENT_USER, 'tenant_legacy', 'USAGE') THEN 1::bigint
        WHEN pg_catalog.split_part(pg_catalog.current_setting('app.tenant_id', true), '/', 2)
             OPERATOR(pg_catalog.=) public.app_tenant_token()
            THEN pg_catalog.split_part(pg_catalog.current_setting('app.tenant_id', true), '/', 1)::bigint
    END;
END;

CREATE OR REPLACE FUNCTION public.app_set_tenant(tenant bigint) RETURNS bigint
LANGUAGE sql
VOLATILE
SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
    SELECT pg_catalog.set_config('app.tenant_id',
                                 tenant::text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) public.app_tenant_token(),
                                 true);
    SELECT tenant;
END;

COMMENT ON FUNCTION public.app_tenant_token() IS
    'tenant-migrate phase 8: the token of the current transaction that app.tenant_id must carry';
COMMENT ON FUNCTION public.app_current_tenant() IS
    'tenant-migrate phase 8: the tenant that row-level security lets this transaction see';
COMMENT ON FUNCTION public.app_set_tenant(bigint) IS
    'tenant-migrate phase 8: names the tenant of the current transaction (call it first in every transaction)';
