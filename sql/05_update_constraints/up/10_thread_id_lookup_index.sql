-- 05_update_constraints / up / 10_thread_id_lookup_index
-- Requires: 05_update_constraints / up / 09_phone_number_lookup_index
-- mode: autocommit
-- Same as step 09 for the legacy lookup by LangGraph thread id.

CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_contacts_thread_id ON contacts (thread_id);
