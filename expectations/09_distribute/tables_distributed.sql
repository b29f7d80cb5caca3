-- expectations / 09_distribute / tables_distributed
-- users is distributed by id and every other tenant table by user_id, all in one colocation group; the tables
-- phase 9 created (the owners of the global keys) and the tables tenant tables reference are reference tables
WITH p AS (SELECT * FROM {batch} AS batch),
created AS (
    SELECT o.name AS table_name FROM tenant_migrate.owned_objects AS o
    WHERE o.phase = 9 AND o.kind = 'table' AND o.ownership = 'created' AND o.released_at IS NULL
),
wanted AS (
    SELECT t.table_name, CASE t.table_name WHEN 'users' THEN 'id' ELSE 'user_id' END AS column_name,
           'distributed' AS table_type
    FROM tenant_migrate.tenant_tables AS t WHERE t.table_name NOT IN (SELECT table_name FROM created)
    UNION ALL
    SELECT table_name, '<none>', 'reference' FROM created
    UNION ALL
    SELECT o.table_name, '<none>', 'reference' FROM tenant_migrate.citus_obstacles AS o WHERE o.kind = 'reference_table'
)
SELECT w.table_name, w.table_type AS wanted, c.citus_table_type AS found, c.distribution_column, c.colocation_id
FROM p CROSS JOIN wanted AS w
LEFT JOIN citus_tables AS c ON c.table_name = format('public.%I', w.table_name)::regclass
WHERE c.table_name IS NULL OR c.citus_table_type <> w.table_type OR c.distribution_column <> w.column_name
    OR (w.table_type = 'distributed'
        AND c.colocation_id <> (SELECT u.colocation_id FROM citus_tables AS u WHERE u.table_name = 'public.users'::regclass))
