-- 09_distribute / up / 04_swap_keys
-- Requires: 09_distribute / up / 03_tenant_key_indexes
-- mode: generated
-- Each saved key without the tenant is dropped and the key with it takes its place on the index step 03 built, in
-- one ALTER TABLE per key (ACCESS EXCLUSIVE for about a millisecond: no scan, the columns are NOT NULL
-- already). A global unique key of users has no replacement on users: its reference table keeps it global once
-- the tables are distributed (step 07). Only what step 01 saved is dropped: idempotent.

SELECT format('ALTER TABLE public.%I DROP CONSTRAINT IF EXISTS %I', o.table_name, o.object_name)
       || CASE WHEN o.replacement IS NOT NULL
              THEN format(', ADD CONSTRAINT %I %s USING INDEX %I', o.replacement,
                          CASE o.kind WHEN 'primary_key' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, o.replacement)
              ELSE '' END AS statement,
       format('%s.%s (%s) %s', o.table_name, o.object_name, o.definition,
              CASE WHEN o.replacement IS NOT NULL THEN format('replaced by %s (%s)', o.replacement,
                                                              o.replacement_definition)
                   ELSE format('dropped: %s keeps it global once the tables are distributed', o.owner_table) END)
           AS note
FROM tenant_migrate.citus_obstacles AS o
JOIN tenant_migrate.saved_objects AS s ON s.phase = 9 AND s.table_name = o.table_name AND s.object_name = o.object_name
WHERE o.action = 'rebuild' AND o.kind IN ('primary_key', 'global_key', 'tenant_key')
ORDER BY o.table_name, o.kind;
