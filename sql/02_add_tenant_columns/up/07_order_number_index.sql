-- 02_add_tenant_columns / up / 07_order_number_index
-- Requires: 02_add_tenant_columns / up / 03_orders_columns
-- mode: autocommit
-- Built CONCURRENTLY (SHARE UPDATE EXCLUSIVE: writes continue); step 08 turns it into the constraint.

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_order_number_key ON orders (order_number);
