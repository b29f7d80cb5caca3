-- 01_create_core_tables / down / 01_drop_core_tables
-- Requires: 01_create_core_tables (applied or partly applied); 02_add_tenant_columns rolled back
-- mode: transaction
-- No CASCADE: if a later phase's FK still points here, this fails instead of dropping it silently.

-- squawk-ignore ban-drop-table -- these tables are new in this phase; dropping them is the rollback
DROP TABLE IF EXISTS chatbots;
-- squawk-ignore ban-drop-table -- new in this phase (see above)
DROP TABLE IF EXISTS user_subscriptions;
-- squawk-ignore ban-drop-table -- new in this phase (see above)
DROP TABLE IF EXISTS users;
