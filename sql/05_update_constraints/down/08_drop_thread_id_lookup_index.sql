-- 05_update_constraints / down / 08_drop_thread_id_lookup_index
-- Requires: 05_update_constraints / down / 01_restore_old_uniques
-- mode: autocommit

DROP INDEX CONCURRENTLY IF EXISTS idx_contacts_thread_id;
