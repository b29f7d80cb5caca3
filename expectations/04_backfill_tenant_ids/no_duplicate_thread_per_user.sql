-- expectations / 04_backfill_tenant_ids / no_duplicate_thread_per_user
-- no duplicate contacts per (user_id, thread_id)
SELECT user_id, thread_id, count(*) AS n FROM {batch} WHERE user_id IS NOT NULL AND thread_id IS NOT NULL GROUP BY user_id, thread_id HAVING count(*) > 1
