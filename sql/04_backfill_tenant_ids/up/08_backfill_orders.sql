-- 04_backfill_tenant_ids / up / 08_backfill_orders
-- Requires: 04_backfill_tenant_ids / up / 01-05 (the defaults)
-- backfill: batched
-- mode: batched
-- table: orders
-- rows: user_id IS NULL OR chatbot_id IS NULL
-- One primary-key range per short transaction: row locks on one batch only, no table lock beyond
-- ROW EXCLUSIVE. Only rows still missing a tenant are touched, so a re-run is a no-op. Each batch runs with
-- session_replication_role = replica, so no trigger of the app's fires (or the step refuses, naming them).
-- squawk cannot parse the lo/hi placeholders: tests/test_squawk.py lints this statement
-- with them replaced by numbers.

UPDATE public.orders
SET user_id = coalesce(user_id, 1), chatbot_id = coalesce(chatbot_id, 1)
WHERE id >= %(lo)s AND id < %(hi)s AND (user_id IS NULL OR chatbot_id IS NULL);
