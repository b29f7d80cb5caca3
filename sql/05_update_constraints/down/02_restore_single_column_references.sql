-- 05_update_constraints / down / 02_restore_single_column_references
-- Requires: 05_update_constraints (applied or partly applied); before 04 drops the composite references
-- mode: generated
-- Gives back each app reference that up step 18 dropped, from tenant_migrate.saved_objects, under its own name
-- and without blocking writes: ADD CONSTRAINT ... NOT VALID (about a millisecond of SHARE ROW EXCLUSIVE), then
-- VALIDATE (SHARE UPDATE EXCLUSIVE: reads and writes continue). On a partitioned table: per leaf partition
-- first, then on the parent, which adopts them without a scan. Only what is missing or not validated yet:
-- idempotent. Its composite twin still guards every row meanwhile (step 04 drops it afterwards).

WITH saved AS (
    SELECT s.table_name, s.object_name, s.definition, format('public.%I', s.table_name)::regclass AS parent
    FROM tenant_migrate.saved_objects AS s
    WHERE s.phase = 5 AND s.kind = 'constraint' AND s.definition LIKE 'FOREIGN KEY%'
),
leaves AS (
    SELECT saved.*, leaf, k.convalidated
    FROM saved
    CROSS JOIN LATERAL tenant_migrate.leaf_tables(saved.parent) AS leaf
    LEFT JOIN pg_constraint AS k ON k.conrelid = leaf AND k.conname = saved.object_name
)
SELECT statement, note
FROM (
    SELECT object_name, 1 AS ord, leaf::text AS part,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', leaf, object_name, definition) AS statement,
           format('restoring %s.%s: %s', table_name, object_name, definition) AS note
    FROM leaves WHERE convalidated IS NULL
    UNION ALL
    SELECT object_name, 2, leaf::text, format('ALTER TABLE %s VALIDATE CONSTRAINT %I', leaf, object_name), NULL
    FROM leaves WHERE convalidated IS NOT TRUE
    UNION ALL
    SELECT saved.object_name, 3, '', format('ALTER TABLE %s ADD CONSTRAINT %I %s', saved.parent, saved.object_name,
                                            saved.definition), NULL
    FROM saved
    WHERE NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conrelid = saved.parent AND k.conname = saved.object_name)
        AND (SELECT c.relkind FROM pg_class AS c WHERE c.oid = saved.parent) = 'p'
) AS todo
ORDER BY object_name, ord, part;
