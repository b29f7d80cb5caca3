-- 05_update_constraints / down / 05_drop_unique_thread_index
-- Requires: 05_update_constraints / down / 03_drop_composite_uniques
-- mode: autocommit
-- After a partial up, the index may exist without its constraint: drop it without blocking writes.

DROP INDEX CONCURRENTLY IF EXISTS unique_thread_per_user;
