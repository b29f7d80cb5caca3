-- 06_create_supporting_tables / down / 07_drop_usage_tracking
-- Requires: 07_performance_indexes rolled back
-- mode: transaction
-- One table per step: each DROP takes ACCESS EXCLUSIVE on the dropped table and, to remove its FK
-- triggers, briefly on the tables it references (no scan). No CASCADE: nothing else may depend on it.

-- squawk-ignore ban-drop-table -- rollback of this phase: usage_tracking was created by its up script
DROP TABLE IF EXISTS usage_tracking;
