-- 05_update_constraints / up / 06_unique_thread_per_user_index
-- Requires: 04_backfill_tenant_ids (user_id NOT NULL)
-- mode: autocommit
-- Built CONCURRENTLY (SHARE UPDATE EXCLUSIVE: reads and writes continue); step 07 attaches it.

CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS unique_thread_per_user ON contacts (user_id, thread_id);
