-- catalog / invalid_index: the INVALID index of this name on this table, left by an interrupted CONCURRENTLY
-- build. An index lives in its table's schema: another schema's index of the same name never matches.
SELECT n.nspname, c.relname
FROM pg_index AS x
JOIN pg_class AS c ON c.oid = x.indexrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relname = %(name)s AND x.indrelid = to_regclass(%(table)s) AND NOT x.indisvalid;
