-- 08_row_level_security / up / 05_enable_row_level_security
-- Requires: 08_row_level_security / up / 04_policies
-- mode: generated
-- ENABLE and FORCE row-level security on each table that has its tenant_isolation policy, one
-- table per transaction (ACCESS EXCLUSIVE for about a millisecond). FORCE makes the table owner
-- subject too, unless it is superuser, BYPASSRLS or a member of tenant_owner. Preflight has already
-- refused to start if a login role that can read the tables has no tenant (it would see no rows).

SELECT format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', c.relname) AS statement,
       format('row-level security on public.%s', c.relname) AS note
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND NOT (c.relrowsecurity AND c.relforcerowsecurity)
    AND EXISTS (SELECT 1 FROM pg_policies AS p
                WHERE p.schemaname = 'public' AND p.tablename = c.relname AND p.policyname = 'tenant_isolation')
ORDER BY c.relname;
