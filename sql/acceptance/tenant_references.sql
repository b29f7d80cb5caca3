-- Each foreign key between two tenant tables that carries the tenant (user_id matched with user_id), by its other
-- column and the column it references (an id, or on a Citus cluster the global value an owner table holds): the
-- checklist points a row of the second tenant at another tenant's row through each, as the application role, and
-- expects a foreign-key violation.
SELECT c.relname::text AS table_name, a.attname::text AS column_name, r.relname::text AS referenced,
       ra.attname::text AS referenced_column
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_class AS r ON r.oid = k.confrelid
CROSS JOIN LATERAL generate_subscripts(k.conkey, 1) AS i (n)
JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[i.n]
JOIN pg_attribute AS ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[i.n]
WHERE k.contype = 'f' AND k.conparentid = 0 AND c.relnamespace = 'public'::regnamespace
    AND cardinality(k.conkey) = 2 AND a.attname <> 'user_id' AND r.relname <> 'users'
    AND EXISTS (SELECT 1 FROM generate_subscripts(k.conkey, 1) AS j (n)
                JOIN pg_attribute AS u ON u.attrelid = k.conrelid AND u.attnum = k.conkey[j.n]
                JOIN pg_attribute AS ru ON ru.attrelid = k.confrelid AND ru.attnum = k.confkey[j.n]
                WHERE u.attname = 'user_id' AND ru.attname = 'user_id')
ORDER BY 1, 2
