-- 05_update_constraints / down / 07_drop_phone_number_lookup_index
-- Requires: 05_update_constraints / down / 01_restore_old_uniques
-- mode: autocommit

DROP INDEX CONCURRENTLY IF EXISTS idx_contacts_phone_number;
