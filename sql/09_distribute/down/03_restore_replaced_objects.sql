-- 09_distribute / down / 03_restore_replaced_objects
-- Requires: 09_distribute / down / 02_undo_created_objects
-- mode: generated
-- Gives back each key and reference that phase 9 replaced, from tenant_migrate.saved_objects, under its own name and
-- without blocking writes: a primary or unique key by CREATE UNIQUE INDEX CONCURRENTLY (SHARE UPDATE EXCLUSIVE),
-- then ADD CONSTRAINT ... USING INDEX (catalog-only, ACCESS EXCLUSIVE for about a millisecond); a reference by ADD
-- CONSTRAINT ... NOT VALID, then VALIDATE (writes go on; not one the app left NOT VALID). Only what is missing or not validated yet: idempotent.
-- Fails (rightly) if the rows no longer meet a key: two tenants' rows with one id, email or number.
-- A saved key reads `PRIMARY KEY (cols)` or `UNIQUE [NULLS NOT DISTINCT] (cols) [INCLUDE (cols)] [DEFERRABLE ...]`.

WITH saved AS (
    SELECT s.table_name, s.object_name, s.definition,
           regexp_match(s.definition, '^(PRIMARY KEY|UNIQUE)( NULLS NOT DISTINCT)? (\(.*?\))( INCLUDE \(.*?\))?(.*)$')
               AS part,
           k.convalidated
    FROM tenant_migrate.saved_objects AS s
    LEFT JOIN pg_constraint AS k
        ON k.conrelid = format('public.%I', s.table_name)::regclass AND k.conname = s.object_name
    WHERE s.phase = 9
)
SELECT statement, note
FROM (
    SELECT object_name, 1 AS ord,
           format('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS %I ON public.%I USING btree %s%s%s', object_name,
                  table_name, part[3], coalesce(part[4], ''), coalesce(part[2], '')) AS statement,
           format('restoring %s.%s: %s', table_name, object_name, definition) AS note
    FROM saved WHERE part IS NOT NULL AND convalidated IS NULL
    UNION ALL
    SELECT object_name, 2, format('ALTER TABLE public.%I ADD CONSTRAINT %I %s USING INDEX %I%s', table_name,
                                  object_name, part[1], object_name, part[5]), NULL
    FROM saved WHERE part IS NOT NULL AND convalidated IS NULL
    UNION ALL
    SELECT object_name, 1, format('ALTER TABLE public.%I ADD CONSTRAINT %I %s NOT VALID', table_name, object_name,
                                  regexp_replace(definition, ' NOT VALID$', '')),
           format('restoring %s.%s: %s', table_name, object_name, definition)
    FROM saved WHERE definition LIKE 'FOREIGN KEY%' AND convalidated IS NULL
    UNION ALL
    SELECT object_name, 2, format('ALTER TABLE public.%I VALIDATE CONSTRAINT %I', table_name, object_name), NULL
    FROM saved WHERE definition LIKE 'FOREIGN KEY%' AND definition NOT LIKE '% NOT VALID' AND convalidated IS NOT TRUE
) AS todo
ORDER BY ord, object_name;
