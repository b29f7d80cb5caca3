-- 05_update_constraints / down / 04_drop_unique_contact_index
-- Requires: 05_update_constraints / down / 03_drop_composite_uniques
-- mode: autocommit
-- After a partial up, the index may exist without its constraint: drop it without blocking writes.

DROP INDEX CONCURRENTLY IF EXISTS unique_contact_per_user;
