-- ledger / lockdown: nobody but its owner (the migration's role) keeps a privilege on the schema tenant_migrate or
-- anything in it. Whatever a default privilege (ALTER DEFAULT PRIVILEGES ... GRANT ... TO ...), PostgreSQL's own
-- defaults (EXECUTE on functions to PUBLIC), an older version or a hand GRANT gave others is revoked. Revokes only
-- what is there: nothing is written when the ledger is already locked down.
DO $lockdown$
DECLARE
    g record;
BEGIN
    FOR g IN
        SELECT 'SCHEMA' AS kind, 'tenant_migrate' AS target, a.grantee
        FROM pg_catalog.pg_namespace AS n
        CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(n.nspacl, pg_catalog.acldefault('n', n.nspowner))) AS a
        WHERE n.nspname = 'tenant_migrate' AND a.grantee <> n.nspowner
        UNION
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
               format('tenant_migrate.%I', c.relname), a.grantee
        FROM pg_catalog.pg_class AS c
        CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(
            c.relacl, pg_catalog.acldefault(CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END::"char", c.relowner))) AS a
        WHERE c.relnamespace = 'tenant_migrate'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
            AND a.grantee <> c.relowner
        UNION
        SELECT 'ROUTINE', format('tenant_migrate.%I(%s)', p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)),
               a.grantee
        FROM pg_catalog.pg_proc AS p
        CROSS JOIN LATERAL pg_catalog.aclexplode(coalesce(p.proacl, pg_catalog.acldefault('f', p.proowner))) AS a
        WHERE p.pronamespace = 'tenant_migrate'::regnamespace AND a.grantee <> p.proowner
    LOOP
        EXECUTE format('REVOKE ALL ON %s %s FROM %s', g.kind, g.target,
                       CASE g.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_catalog.pg_get_userbyid(g.grantee)) END);
    END LOOP;
END
$lockdown$;
