-- 09_distribute / up / 06_validate_references
-- Requires: 09_distribute / up / 05_references
-- mode: generated
-- VALIDATE each reference step 05 added NOT VALID (SHARE UPDATE EXCLUSIVE on its table, ROW SHARE on the one it
-- names: reads and writes go on). The rows met the reference it replaced, which checked the same and more.

SELECT format('ALTER TABLE public.%I VALIDATE CONSTRAINT %I', c.relname, k.conname) AS statement,
       NULL AS note
FROM tenant_migrate.saved_objects AS s
JOIN pg_class AS c ON c.relname = s.table_name AND c.relnamespace = 'public'::regnamespace
JOIN pg_constraint AS k
    ON k.conrelid = c.oid AND k.conname = left(regexp_replace(s.object_name, '_fkey$', ''), 53) || '_dist_fkey'
WHERE s.phase = 9 AND k.contype = 'f' AND NOT k.convalidated
ORDER BY c.relname, k.conname;
