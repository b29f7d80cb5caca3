-- check / unique_proven: whether a key the plan adds is guaranteed already, so that no scan is needed: the key itself
-- (an index %(name)s of public.%(table)s, valid: from a resumed phase, or adopted), or a valid, non-partial unique
-- index of public.%(table)s whose key columns are plain columns, all among %(columns)s (then no two rows share a value
-- of those columns, whatever else the key holds).
SELECT EXISTS (SELECT 1 FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
               WHERE x.indrelid = to_regclass(format('public.%%I', %(table)s::text)) AND i.relname = %(name)s::text
                   AND x.indisunique AND x.indisvalid)
OR EXISTS (
    SELECT 1
    FROM pg_index AS x
    WHERE x.indrelid = to_regclass(format('public.%%I', %(table)s::text)) AND x.indisunique AND x.indisvalid
        AND x.indpred IS NULL AND x.indexprs IS NULL
        AND NOT EXISTS (
            SELECT 1
            FROM unnest(string_to_array(x.indkey::text, ' ')::int2[]) WITH ORDINALITY AS k (attnum, pos)
            JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
            WHERE k.pos <= x.indnkeyatts AND a.attname <> ALL (%(columns)s::text[])
        )
)
