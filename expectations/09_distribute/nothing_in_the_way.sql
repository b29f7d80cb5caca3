-- expectations / 09_distribute / nothing_in_the_way
-- no key without the tenant, no reference Citus refuses, no global key without the reference that keeps it global
-- is left (sql/citus/obstacles.sql: only notes remain)
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT o.kind, o.table_name, o.object_name, o.action, o.detail
FROM p CROSS JOIN tenant_migrate.citus_obstacles AS o
WHERE o.action <> 'note'
