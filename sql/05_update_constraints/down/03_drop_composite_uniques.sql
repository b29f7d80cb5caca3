-- 05_update_constraints / down / 03_drop_composite_uniques
-- Requires: 05_update_constraints / down / 01_restore_old_uniques
-- mode: transaction
-- Catalog-only (ACCESS EXCLUSIVE for about a millisecond); the constraints' indexes go with them.
-- Runs after step 01, so contacts is never without a unique on phone_number / thread_id.

-- squawk-ignore prefer-robust-stmts, ban-drop-constraint -- runner wraps the file; this phase's own constraint
ALTER TABLE contacts DROP CONSTRAINT IF EXISTS unique_contact_per_user;
-- squawk-ignore prefer-robust-stmts, ban-drop-constraint -- as above
ALTER TABLE contacts DROP CONSTRAINT IF EXISTS unique_thread_per_user;
