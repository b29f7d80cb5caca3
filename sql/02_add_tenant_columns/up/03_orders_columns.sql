-- 02_add_tenant_columns / up / 03_orders_columns
-- Requires: 01_create_core_tables
-- The enhanced columns of the architecture; the tenant columns come in step 05 or 06 (by the way phases 2-4 go).
-- mode: transaction
-- Nullable columns and constant defaults: catalog-only, ACCESS EXCLUSIVE for about a millisecond.
-- order_number's unique index is built CONCURRENTLY in step 07 and attached in step 08.

ALTER TABLE orders
    ADD COLUMN IF NOT EXISTS order_number text,
    ADD COLUMN IF NOT EXISTS total_amount numeric(12, 2),
    ADD COLUMN IF NOT EXISTS currency text NOT NULL DEFAULT 'USD',
    ADD COLUMN IF NOT EXISTS payment_status text NOT NULL DEFAULT 'pending';
