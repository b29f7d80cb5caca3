-- 05_update_constraints / down / 01_restore_old_uniques
-- Requires: 05_update_constraints (applied or partly applied)
-- mode: generated
-- Recreates each unique that up step 11 dropped, from tenant_migrate.saved_objects, under its original
-- name and without blocking writes: CREATE UNIQUE INDEX CONCURRENTLY (SHARE UPDATE EXCLUSIVE), then
-- for a constraint ADD CONSTRAINT <name> UNIQUE USING INDEX <name> (catalog-only, brief ACCESS
-- EXCLUSIVE). Only objects missing from the catalog (or left INVALID, which the runner drops before
-- the build): idempotent. Fails (rightly) if contacts now holds
-- the same phone_number or thread_id under two tenants.
-- A saved constraint definition reads `UNIQUE [NULLS NOT DISTINCT] (cols) [INCLUDE (cols)] [DEFERRABLE
-- ...]`; the index and constraint are rebuilt from those parts (a custom fillfactor or tablespace of
-- the original constraint's index is not in that definition and is not restored).

WITH saved AS (
    SELECT s.table_name, s.object_name, s.kind, s.definition, s.saved_at,
           regexp_match(
               s.definition, '^UNIQUE( NULLS NOT DISTINCT)? (\(.*?\))( INCLUDE \(.*?\))?(.*)$'
           ) AS part
    FROM tenant_migrate.saved_objects AS s
    WHERE s.phase = 5 AND (s.kind = 'index' OR s.definition LIKE 'UNIQUE%')
),
missing AS (
    SELECT saved.*,
           EXISTS (
               SELECT 1 FROM pg_index AS x
               WHERE x.indexrelid = to_regclass(format('public.%I', saved.object_name)) AND x.indisvalid
           ) AS has_valid_index,
           EXISTS (
               SELECT 1 FROM pg_constraint AS k
               WHERE k.conrelid = format('public.%I', saved.table_name)::regclass
                   AND k.conname = saved.object_name
           ) AS has_constraint
    FROM saved
)
SELECT statement, note
FROM (
    SELECT object_name, 1 AS ord,
           format('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS %I ON public.%I USING btree %s%s%s',
                  object_name, table_name, part[2], coalesce(part[3], ''), coalesce(part[1], '')) AS statement,
           format('restoring constraint %s: %s', object_name, definition) AS note
    FROM missing WHERE kind = 'constraint' AND NOT has_constraint
    UNION ALL
    SELECT object_name, 2,
           format('ALTER TABLE public.%I ADD CONSTRAINT %I UNIQUE USING INDEX %I%s',
                  table_name, object_name, object_name, part[4]),
           NULL
    FROM missing WHERE kind = 'constraint' AND NOT has_constraint
    UNION ALL
    SELECT object_name, 1,
           regexp_replace(definition, '^CREATE UNIQUE INDEX ', 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS '),
           format('restoring unique index %s', object_name)
    FROM missing WHERE kind = 'index' AND NOT has_valid_index
) AS todo
ORDER BY object_name, ord;
