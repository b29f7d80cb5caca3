-- 02_add_tenant_columns / up / 08_validate_orders_fks
-- Requires: 02_add_tenant_columns / up / 05_tenant_fks_not_valid
-- mode: transaction
-- VALIDATE scans orders under SHARE UPDATE EXCLUSIVE only: reads and writes continue. Validating an
-- already validated constraint is a no-op, so the step is idempotent.

-- squawk-ignore prefer-robust-stmts -- mode: transaction, the runner wraps the file in one transaction
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;
-- squawk-ignore prefer-robust-stmts -- the same transaction as above
ALTER TABLE orders VALIDATE CONSTRAINT orders_chatbot_id_fkey;
