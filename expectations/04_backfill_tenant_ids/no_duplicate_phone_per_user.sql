-- expectations / 04_backfill_tenant_ids / no_duplicate_phone_per_user
-- no duplicate contacts per (user_id, phone_number)
SELECT user_id, phone_number, count(*) AS n FROM {batch} WHERE user_id IS NOT NULL AND phone_number IS NOT NULL GROUP BY user_id, phone_number HAVING count(*) > 1
