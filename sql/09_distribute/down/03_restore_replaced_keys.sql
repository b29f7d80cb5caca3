-- 09_distribute / down / 03_restore_replaced_keys
-- Requires: 09_distribute / down / 02_undo_created_objects (the keys with the tenant are gone: a table has one
-- primary key)
-- mode: generated
-- Gives back each primary key and unique key that up step 04 dropped, as up step 01 saved it, under its own name and
-- without blocking writes (tenant_migrate.restore_statements, 'keys', as phase 5's rollback does): CREATE UNIQUE
-- INDEX CONCURRENTLY (SHARE UPDATE EXCLUSIVE), then ADD CONSTRAINT ... USING INDEX (catalog-only, ACCESS EXCLUSIVE
-- for about a millisecond). Each saved row is checked first (tenant_migrate.saved_verified: its digest, and the
-- table it was saved from, whose identity step 01 took again after undistribute_table rebuilt it). Only what is
-- missing: idempotent. Fails (rightly) if the rows no longer meet a key: two tenants' rows with one id, email or
-- number.

SELECT statement, note FROM tenant_migrate.restore_statements(9, 'keys');
