-- 08_row_level_security / down / 01_disable_row_level_security
-- Requires: 08_row_level_security
-- mode: generated
-- Turn row-level security off on every table that has it (one table per transaction), first, so no
-- reader ever meets a table with row-level security on and its policies gone (that shows no rows).

SELECT format('ALTER TABLE public.%I NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY', c.relname)
           AS statement,
       format('row-level security off on public.%s', c.relname) AS note
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND (c.relrowsecurity OR c.relforcerowsecurity)
ORDER BY c.relname;
