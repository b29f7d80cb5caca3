-- 04_backfill_tenant_ids / up / 01_tenant_defaults
-- Requires: 03_create_admin_user
-- mode: transaction
-- First, so that rows the legacy app inserts during and after the backfill land on tenant 1.
-- SET DEFAULT is catalog-only: ACCESS EXCLUSIVE for about a millisecond per table, no scan.

-- squawk-ignore prefer-robust-stmts -- mode: transaction, the runner wraps the file in one transaction
ALTER TABLE contacts ALTER COLUMN user_id SET DEFAULT 1, ALTER COLUMN chatbot_id SET DEFAULT 1;
-- squawk-ignore prefer-robust-stmts -- as above
ALTER TABLE messages ALTER COLUMN user_id SET DEFAULT 1, ALTER COLUMN chatbot_id SET DEFAULT 1;
-- squawk-ignore prefer-robust-stmts -- as above
ALTER TABLE orders ALTER COLUMN user_id SET DEFAULT 1, ALTER COLUMN chatbot_id SET DEFAULT 1;
-- squawk-ignore prefer-robust-stmts -- as above
ALTER TABLE campaigns ALTER COLUMN user_id SET DEFAULT 1, ALTER COLUMN chatbot_id SET DEFAULT 1;
