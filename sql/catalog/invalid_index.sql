-- catalog / invalid_index: is there an INVALID index of this name (left by an interrupted CONCURRENTLY build)?
SELECT n.nspname, c.relname
FROM pg_index AS x
JOIN pg_class AS c ON c.oid = x.indexrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE c.relname = %(name)s AND NOT x.indisvalid;
