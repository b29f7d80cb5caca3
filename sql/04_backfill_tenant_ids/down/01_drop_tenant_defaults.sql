-- 04_backfill_tenant_ids / down / 01_drop_tenant_defaults
-- Requires: 05_update_constraints rolled back
-- mode: transaction
-- First, so that no new row gets tenant 1 while the batches below clear the tenant ids.
-- DROP DEFAULT is catalog-only: ACCESS EXCLUSIVE for about a millisecond per table. IF EXISTS on the
-- tables is not needed (phase 2 added the columns); DROP DEFAULT is a no-op when there is none.

-- squawk-ignore prefer-robust-stmts, ban-drop-default -- runner wraps the file; drops phase 4's own DEFAULT 1
ALTER TABLE contacts ALTER COLUMN user_id DROP DEFAULT, ALTER COLUMN chatbot_id DROP DEFAULT;
-- squawk-ignore prefer-robust-stmts, ban-drop-default -- as above
ALTER TABLE messages ALTER COLUMN user_id DROP DEFAULT, ALTER COLUMN chatbot_id DROP DEFAULT;
-- squawk-ignore prefer-robust-stmts, ban-drop-default -- as above
ALTER TABLE orders ALTER COLUMN user_id DROP DEFAULT, ALTER COLUMN chatbot_id DROP DEFAULT;
-- squawk-ignore prefer-robust-stmts, ban-drop-default -- as above
ALTER TABLE campaigns ALTER COLUMN user_id DROP DEFAULT, ALTER COLUMN chatbot_id DROP DEFAULT;
