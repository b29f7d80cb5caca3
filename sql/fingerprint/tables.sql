-- fingerprint / tables: every table of the public schema that is the app's (not created by the migration), with
-- its columns that are the app's, in order, and its primary key's columns that are the app's (one integer column:
-- the chunks are ranges of it; another key: buckets of its hash; none: buckets of the row's hash). A partitioned
-- table is read through its parent.
-- %(created_tables)s and %(created_columns)s ('table.column') are what the migration created (its ledger).
SELECT c.relname AS table_name, pk.columns AS pk, pk.integer AS integer_pk,
       array_agg(a.attname::text ORDER BY a.attnum) AS columns
FROM pg_class AS c
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
-- the primary key's columns that are the app's: phase 9 makes the app's (id) into (user_id, id), which chunks the
-- same rows the same way as before without the migration's user_id
CROSS JOIN LATERAL (
    SELECT array_agg(ka.attname::text ORDER BY u.ord) AS columns,
           count(*) = 1 AND bool_and(ka.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)) AS integer
    FROM pg_constraint AS k
    CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u (attnum, ord)
    JOIN pg_attribute AS ka ON ka.attrelid = k.conrelid AND ka.attnum = u.attnum
    WHERE k.conrelid = c.oid AND k.contype = 'p'
        AND c.relname || '.' || ka.attname <> ALL (%(created_columns)s::text[])
) AS pk
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND c.relname <> ALL (%(created_tables)s::text[])
    AND c.relname || '.' || a.attname <> ALL (%(created_columns)s::text[])
GROUP BY c.oid, c.relname, pk.columns, pk.integer
ORDER BY c.relname;
