-- acceptance / owner_grants: what the checklist's own login role (tenant_migrate/probe.py) is granted for the
-- platform's side of the checklist, which the app roles may not do: onboarding a tenant (users, subscription,
-- chatbot), the sample rows of every tenant table, usage counted without row-level security (before phase 8),
-- row counts. Every privilege on the tenant tables, USAGE on their sequences (tenant_migrate/acceptance/checklist.py
-- adds USAGE on the schema and EXECUTE on count_usage()). Revoked again,
-- and the role dropped, when the checklist ends. The app's code that the checklist's writes fire runs with no more
-- than this: no superuser, no DDL, nothing outside the tenant tables, no ledger.
SELECT 'SELECT, INSERT, UPDATE, DELETE' AS privileges, 'TABLE' AS kind, t.table_name AS name
FROM tenant_migrate.tenant_tables AS t
UNION ALL
SELECT 'USAGE', 'SEQUENCE', s.relname
FROM pg_depend AS d
JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace
JOIN tenant_migrate.tenant_tables AS t ON d.refobjid = format('public.%I', t.table_name)::regclass
WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
ORDER BY 2, 3;
