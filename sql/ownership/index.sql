-- ownership / index: the index %(name)s of the public schema (on the table of oid %(table)s, unless that is NULL),
-- one row as sql/ownership/objects.sql shows it, or none.
SELECT 'index' AS kind, t.relname::text AS table_name, i.relname::text AS name,
       pg_get_indexdef(i.oid) || CASE WHEN x.indisvalid THEN '' ELSE ' INVALID' END AS detail,
       i.oid AS objid, 0::bigint AS objsub, x.xmin::text || '/' || i.xmin::text AS version
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
WHERE i.relname = %(name)s AND i.relnamespace = 'public'::regnamespace
    AND x.indrelid = coalesce(%(table)s::oid, x.indrelid);
