-- 08_row_level_security / up / 02_current_tenant_function
-- Requires: 08_row_level_security / up / 01_roles
-- mode: transaction
-- The tenant of the current transaction, which the policies of step 04 compare every row with. A tenant is named
-- for one transaction only, so that a value left on a pooled server connection (a client's session-level SET, an
-- easy mistake behind PgBouncer in transaction mode) reaches no other client: it fails closed (docs/poolers.md).
-- The same functions serve a single server and a Citus cluster (phase 9): the app changes nothing on Citus.
-- - app_set_tenant(tenant): the app's one statement per transaction, first in it. It runs SET LOCAL app.tenant_id =
--   '<tenant>/<token of this transaction>' and returns the tenant. SET LOCAL, not set_config(): on a Citus
--   coordinator, with citus.propagate_set_commands = 'local' (set first, for this transaction), Citus passes a SET
--   LOCAL run in a transaction block on to every worker the transaction reaches, also one run by EXECUTE inside a
--   function; set_config() it never passes. It also sets citus.multi_shard_modify_mode = 'sequential' for the
--   transaction (one connection per worker: a tenant's transaction may write a reference table, an owner of a global
--   key, after reading shards, which Citus refuses after reads over parallel connections). On a server without
--   Citus both citus.* settings are unused placeholders of the transaction. PL/pgSQL, for the SET statements.
-- - app_tenant_token(): what "this transaction" is. Its start time in microseconds since 1970 (transaction_timestamp:
--   new for every transaction of a server process, the same in its parallel workers, and also on a read-only
--   standby, where no transaction id can be assigned). Except in a session that Citus opened from a coordinator to
--   run part of a distributed transaction (application_name 'citus_internal gpid=...', Citus's
--   CITUS_APPLICATION_NAME_PREFIX), whose transaction has a start time of its own: there the token is the one
--   app.tenant_id carries, since the only value that reaches such a session is a SET LOCAL of the coordinator's
--   transaction, propagated by Citus for that transaction only (a session-level SET on the coordinator is never
--   propagated: the workers then see no tenant).
-- - app_current_tenant(): 1 for members of tenant_legacy, whatever they set (the legacy backend sees and writes only
--   the admin tenant's rows); else the tenant of app.tenant_id when its token is this transaction's; else NULL,
--   which matches no row: no tenant named, a plain value ('7', from SET or set_config), or one named in another
--   transaction. A login role that is a member of both tenant_legacy and tenant_app is the legacy backend. The
--   tenant part goes through NULLIF(..., '') before its cast: Citus may evaluate a branch of the CASE that is not
--   taken (seen: an INSERT into a reference table with app.tenant_id = '', what names no tenant, failed on
--   ''::bigint).
-- Hardened against a login that may create objects on its search_path (a function pg_has_role, an operator =):
-- every name is schema-qualified, the two functions the policies call have SQL-standard bodies (BEGIN ATOMIC), so
-- PostgreSQL binds every function and operator when the function is created, never by the caller's search_path, and
-- app_set_tenant runs with SET search_path = pg_catalog, pg_temp. The two STABLE functions have no SET clause on
-- purpose: it would stop the planner from inlining them into the policies (measured on PostgreSQL 18: 3.6 us a call
-- with SET search_path, 0.8 us inlined; docs/poolers.md). STABLE is essential: the planner then evaluates the tenant
-- once per index scan; left VOLATILE, the policies fell from 40k to 1.8 queries/s (notes/postgres-online-ddl.md).

CREATE OR REPLACE FUNCTION public.app_tenant_token() RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE
        WHEN pg_catalog.current_setting('application_name') OPERATOR(pg_catalog.~~) 'citus\_internal gpid=%'
            THEN NULLIF(pg_catalog.split_part(pg_catalog.current_setting('app.tenant_id', true), '/', 2), '')
        ELSE (EXTRACT(epoch FROM pg_catalog.transaction_timestamp()) OPERATOR(pg_catalog.*) 1000000)::bigint::text
    END;
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
            THEN NULLIF(pg_catalog.split_part(pg_catalog.current_setting('app.tenant_id', true), '/', 1), '')::bigint
    END;
END;

CREATE OR REPLACE FUNCTION public.app_set_tenant(tenant bigint) RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $fn$
BEGIN
    SET LOCAL citus.propagate_set_commands = 'local';
    SET LOCAL citus.multi_shard_modify_mode = 'sequential';
    EXECUTE pg_catalog.format('SET LOCAL app.tenant_id = %L',
                              COALESCE(tenant::text OPERATOR(pg_catalog.||) '/'
                                                  OPERATOR(pg_catalog.||) public.app_tenant_token(), ''));
    RETURN tenant;
END
$fn$;

COMMENT ON FUNCTION public.app_tenant_token() IS
    'tenant-migrate phase 8: the token of the current transaction that app.tenant_id must carry';
COMMENT ON FUNCTION public.app_current_tenant() IS
    'tenant-migrate phase 8: the tenant that row-level security lets this transaction see';
COMMENT ON FUNCTION public.app_set_tenant(bigint) IS
    'tenant-migrate phase 8: names the tenant of the current transaction (call it first in every transaction)';
