-- 05_update_constraints / up / 18_drop_single_column_references
-- Requires: 05_update_constraints / up / 17_save_single_column_references
-- mode: generated
-- Drops each app reference that step 17 saved and whose composite twin is validated: its twin checks everything
-- it checked, and more. Catalog-only (ACCESS EXCLUSIVE on both tables for about a millisecond). Left as it is,
-- with a note, when its definition was not saved. Rollback gives it back under its own name.

SELECT CASE WHEN s.object_name IS NOT NULL THEN
           format('ALTER TABLE public.%I DROP CONSTRAINT IF EXISTS %I', r.table_name, r.constraint_name)
       END AS statement,
       CASE WHEN s.object_name IS NULL
           THEN format('kept %s.%s: its definition was not saved', r.table_name, r.constraint_name)
           ELSE format('dropping %s.%s (saved in tenant_migrate.saved_objects): %s replaces it', r.table_name,
                       r.constraint_name, r.composite_name)
       END AS note
FROM tenant_migrate.tenant_references AS r
JOIN pg_constraint AS twin
    ON twin.conrelid = format('public.%I', r.table_name)::regclass AND twin.conname = r.composite_name
    AND twin.convalidated
LEFT JOIN tenant_migrate.saved_objects AS s
    ON s.phase = 5 AND s.table_name = r.table_name AND s.object_name = r.constraint_name
ORDER BY r.table_name, r.column_name;
