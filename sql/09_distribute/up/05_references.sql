-- 09_distribute / up / 05_references
-- Requires: 09_distribute / up / 04_swap_keys
-- mode: generated
-- References Citus refuses, each saved by step 01. One that carries the tenant but clears or changes it on delete
-- or update is replaced by the same reference with NO ACTION there: dropped and added NOT VALID in one ALTER TABLE
-- (ACCESS EXCLUSIVE on both tables for about a millisecond; step 06 validates it). One that checks nothing the
-- tenant's own reference does not (a CHECK keeps its column NULL or equal to user_id) is dropped.

SELECT format('ALTER TABLE public.%I DROP CONSTRAINT IF EXISTS %I', o.table_name, o.object_name)
       || CASE WHEN o.replacement IS NOT NULL
              THEN format(', ADD CONSTRAINT %I %s NOT VALID', o.replacement, o.replacement_definition)
              ELSE '' END AS statement,
       format('%s.%s (%s) %s', o.table_name, o.object_name, o.definition,
              coalesce('replaced by ' || o.replacement || ' (' || o.replacement_definition || ')', 'dropped')) AS note
FROM tenant_migrate.citus_obstacles AS o
JOIN tenant_migrate.saved_objects AS s ON s.phase = 9 AND s.table_name = o.table_name AND s.object_name = o.object_name
WHERE o.action = 'rebuild' AND o.kind IN ('tenant_action', 'redundant_reference')
ORDER BY o.table_name, o.object_name;
