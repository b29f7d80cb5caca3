-- 05_update_constraints / down / 01_restore_old_uniques
-- Requires: 05_update_constraints (applied or partly applied)
-- mode: generated
-- Gives back each unique that up step 11 dropped, as up step 08 saved it, under its original name and without
-- blocking writes (tenant_migrate.restore_statements, 'keys'): CREATE UNIQUE INDEX CONCURRENTLY (SHARE UPDATE
-- EXCLUSIVE) from the saved index definition (its fillfactor and tablespace included), then for a constraint ADD
-- CONSTRAINT <name> UNIQUE USING INDEX <name> (catalog-only, brief ACCESS EXCLUSIVE). Each saved row is checked
-- first (tenant_migrate.saved_verified): a definition changed since it was saved stops the rollback. Only objects
-- missing from the catalog (or left INVALID, which the runner drops before the build): idempotent. Fails (rightly)
-- if contacts now holds the same phone_number or thread_id under two tenants.

SELECT statement, note FROM tenant_migrate.restore_statements(5, 'keys');
