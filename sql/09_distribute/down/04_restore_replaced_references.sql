-- 09_distribute / down / 04_restore_replaced_references
-- Requires: 09_distribute / down / 03_restore_replaced_keys (the keys they name are back)
-- mode: generated
-- Gives back each reference that up step 05 replaced or dropped, as up step 01 saved it, under its own name and
-- without blocking writes (tenant_migrate.restore_statements, 'references'): ADD CONSTRAINT ... NOT VALID (about a
-- millisecond of SHARE ROW EXCLUSIVE), then VALIDATE (SHARE UPDATE EXCLUSIVE: reads and writes continue). Each saved
-- row is checked first (tenant_migrate.saved_verified). Only what is missing or not validated yet: idempotent.

SELECT statement, note FROM tenant_migrate.restore_statements(9, 'references');
