-- 02_add_tenant_columns / up / 08_order_number_unique
-- Requires: 02_add_tenant_columns / up / 07_order_number_index
-- mode: transaction
-- ADD CONSTRAINT ... UNIQUE USING INDEX: catalog-only (the index is already built and valid),
-- ACCESS EXCLUSIVE for about a millisecond. The catalog check makes it idempotent.

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'public.orders'::regclass AND conname = 'orders_order_number_key'
    ) THEN
        ALTER TABLE orders ADD CONSTRAINT orders_order_number_key UNIQUE USING INDEX orders_order_number_key;
    END IF;
END
$$;
