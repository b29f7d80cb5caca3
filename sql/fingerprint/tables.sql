-- fingerprint / tables: every table of the public schema that is the app's (not created by the migration), with
-- its columns that are the app's, in order, and its primary key's columns (one integer column: the chunks are
-- ranges of it; another key: buckets of its hash; none: buckets of the row's hash). A partitioned table is
-- read through its parent.
-- %(created_tables)s and %(created_columns)s ('table.column') are what the migration created (its ledger).
SELECT c.relname AS table_name,
       (SELECT array_agg(a.attname::text ORDER BY u.ord) FROM pg_constraint AS k
        CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY AS u (attnum, ord)
        JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
        WHERE k.conrelid = c.oid AND k.contype = 'p') AS pk,
       (SELECT a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype) FROM pg_constraint AS k
        JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
        WHERE k.conrelid = c.oid AND k.contype = 'p' AND cardinality(k.conkey) = 1) AS integer_pk,
       array_agg(a.attname::text ORDER BY a.attnum) AS columns
FROM pg_class AS c
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND c.relname <> ALL (%(created_tables)s::text[])
    AND c.relname || '.' || a.attname <> ALL (%(created_columns)s::text[])
GROUP BY c.oid, c.relname
ORDER BY c.relname;
