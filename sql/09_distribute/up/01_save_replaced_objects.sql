-- 09_distribute / up / 01_save_replaced_objects
-- Requires: 08_row_level_security; a Citus coordinator with workers (the check refuses otherwise)
-- mode: transaction
-- Saves, for the rollback (tenant_migrate.save_constraint: the saved-object API of sql/README.md), every key and
-- reference this phase replaces (the rows of tenant_migrate.citus_obstacles it rebuilds: primary keys and unique keys
-- without the tenant, references Citus refuses), whoever made them, the app or an earlier phase. Steps 04 and 05 drop
-- exactly these. Reads the catalog only; idempotent.

SELECT tenant_migrate.save_constraint(9, k.oid)
FROM tenant_migrate.citus_obstacles AS o
JOIN pg_constraint AS k ON k.conrelid = format('public.%I', o.table_name)::regclass AND k.conname = o.object_name
WHERE o.action = 'rebuild' AND o.object_name IS NOT NULL;
