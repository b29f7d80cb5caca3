-- 09_distribute / up / 01_save_replaced_objects
-- Requires: 08_row_level_security; a Citus coordinator with workers (the check refuses otherwise)
-- mode: transaction
-- Saves, for the rollback, the definition of every key and reference this phase replaces (the rows of
-- tenant_migrate.citus_obstacles it rebuilds: primary keys and unique keys without the tenant, references Citus
-- refuses), whoever made them, the app or an earlier phase. Reads the catalog only; idempotent.

INSERT INTO tenant_migrate.saved_objects (phase, table_name, object_name, kind, definition)
SELECT 9, o.table_name, o.object_name, 'constraint', o.definition
FROM tenant_migrate.citus_obstacles AS o
WHERE o.action = 'rebuild' AND o.object_name IS NOT NULL
ON CONFLICT (phase, object_name) DO NOTHING;
