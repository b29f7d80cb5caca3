-- 06_create_supporting_tables / down / 05_drop_analytics_events
-- Requires: 07_performance_indexes rolled back
-- mode: transaction
-- One table per step: each DROP takes ACCESS EXCLUSIVE on the dropped table and, to remove its FK
-- triggers, briefly on the tables it references (no scan). No CASCADE: nothing else may depend on it.

-- squawk-ignore ban-drop-table -- rollback of this phase: analytics_events was created by its up script
DROP TABLE IF EXISTS analytics_events;
