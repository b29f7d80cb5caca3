-- check / global_uniques: the app's unique keys on %(column)s of public.%(table)s alone (a constraint or a plain
-- unique index, partial or not): what --keep-global-unique keeps beside the per-tenant key phase 5 adds.
SELECT i.relname::text AS index_name, k.conname IS NOT NULL AS is_constraint
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
LEFT JOIN pg_constraint AS k ON k.conindid = x.indexrelid AND k.contype = 'u'
WHERE x.indrelid = to_regclass(format('public.%%I', %(table)s::text)) AND x.indisunique AND x.indnkeyatts = 1
    AND x.indexprs IS NULL AND a.attname = %(column)s::text
ORDER BY 1
