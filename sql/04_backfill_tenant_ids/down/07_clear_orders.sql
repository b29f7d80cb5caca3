-- 04_backfill_tenant_ids / down / 07_clear_orders
-- Requires: 04_backfill_tenant_ids / down / 01-04 (defaults dropped)
-- mode: batched
-- table: orders
-- Back to the pre-phase state: tenant ids NULL. No row is deleted (rows written since phase 4 stay).
-- One primary-key range per short transaction; rows already NULL are skipped, so a re-run is a no-op.
-- squawk cannot parse the lo/hi placeholders: tests/test_squawk.py lints this statement
-- with them replaced by numbers.

UPDATE orders
SET user_id = NULL, chatbot_id = NULL
WHERE id >= %(lo)s AND id < %(hi)s AND (user_id IS NOT NULL OR chatbot_id IS NOT NULL);
