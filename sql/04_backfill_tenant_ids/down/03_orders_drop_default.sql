-- 04_backfill_tenant_ids / down / 03_orders_drop_default
-- Requires: 05_update_constraints rolled back
-- mode: transaction
-- Steps 01-04 come first, so that no new row gets tenant 1 while steps 05-08 clear the tenant ids.
-- DROP DEFAULT is catalog-only: ACCESS EXCLUSIVE for about a millisecond, one table per step (per
-- transaction). DROP DEFAULT is a no-op when there is none.

-- squawk-ignore prefer-robust-stmts, ban-drop-default -- runner wraps the file; drops phase 4's own DEFAULT 1
ALTER TABLE orders ALTER COLUMN user_id DROP DEFAULT, ALTER COLUMN chatbot_id DROP DEFAULT;
