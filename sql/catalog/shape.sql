-- catalog / shape: one row per object of the public schema, in a stable order.
-- Two databases with equal shapes have the same tables, columns (type, nullability, default),
-- constraints (by definition and validity), indexes (by definition and validity) and RLS settings.
SELECT 'column' AS kind, c.relname AS table_name, a.attname AS name,
       format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') AS definition
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint', c.relname, k.conname,
       pg_get_constraintdef(k.oid) || CASE WHEN k.convalidated THEN '' ELSE ' (not validated)' END
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND k.contype <> 'n'
UNION ALL
SELECT 'index', t.relname, i.relname,
       pg_get_indexdef(x.indexrelid) || CASE WHEN x.indisvalid THEN '' ELSE ' (invalid)' END
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = 'public'
UNION ALL
SELECT 'table', c.relname, '',
       'rls=' || c.relrowsecurity || ' force=' || c.relforcerowsecurity
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
UNION ALL
SELECT 'policy', p.tablename, p.policyname, coalesce(p.qual, '') || ' / ' || coalesce(p.with_check, '')
FROM pg_policies AS p
WHERE p.schemaname = 'public'
ORDER BY 1, 2, 3, 4;
