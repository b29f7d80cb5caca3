-- 05_update_constraints / up / 09_phone_number_lookup_index
-- Requires: 05_update_constraints / up / 08_save_old_uniques
-- mode: autocommit
-- The legacy lookup `WHERE phone_number = $1` (no user_id) used the old unique index. PostgreSQL 18 can
-- skip-scan unique_contact_per_user for it, PostgreSQL 15 cannot (52 ms seq scan at 200k rows, measured):
-- keep a plain index so dropping the old unique in step 11 never degrades the live app's lookups.

CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_contacts_phone_number ON contacts (phone_number);
