-- expectations / shared / no_invalid_index
-- no INVALID index in the public schema (left by an interrupted CONCURRENTLY build)
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT t.relname AS table_name, i.relname AS index_name FROM p CROSS JOIN pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid JOIN pg_class AS t ON t.oid = x.indrelid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND NOT (x.indisvalid AND x.indisready)
