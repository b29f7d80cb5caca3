-- 05_update_constraints / down / 02_restore_single_column_references
-- Requires: 05_update_constraints (applied or partly applied); before 04 drops the composite references
-- mode: generated
-- Gives back each app reference that up step 18 dropped, as up step 17 saved it, under its own name and without
-- blocking writes (tenant_migrate.restore_statements, 'references'): ADD CONSTRAINT ... NOT VALID (about a
-- millisecond of SHARE ROW EXCLUSIVE), then VALIDATE (SHARE UPDATE EXCLUSIVE: reads and writes continue). On a
-- partitioned table: per leaf partition first, then on the parent, which adopts them without a scan. Each saved row
-- is checked first (tenant_migrate.saved_verified). Only what is missing or not validated yet: idempotent. Its
-- composite twin still guards every row meanwhile (step 04 drops it afterwards).

SELECT statement, note FROM tenant_migrate.restore_statements(5, 'references');
