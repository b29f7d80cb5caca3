-- compat / extension: the schema and version of pg_stat_statements in this database (no row: not installed).
SELECT n.nspname AS schema_name, e.extversion AS version
FROM pg_extension AS e
JOIN pg_namespace AS n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements';
