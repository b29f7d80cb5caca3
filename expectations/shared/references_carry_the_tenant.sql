-- expectations / shared / references_carry_the_tenant
-- every foreign key between two tenant tables (both with user_id; users aside) matches user_id with user_id, so a
-- row can only reference a row of its own tenant; only a reference the check reported as left alone is exempt
WITH p AS (SELECT * FROM {batch} AS batch),
fk AS (
    SELECT k.oid, c.relname AS table_name, k.conname,
           EXISTS (SELECT 1 FROM generate_subscripts(k.conkey, 1) AS i (n)
                   JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[i.n]
                   JOIN pg_attribute AS ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[i.n]
                   WHERE a.attname = 'user_id' AND ra.attname = 'user_id') AS carries_tenant
    FROM pg_constraint AS k
    JOIN pg_class AS c ON c.oid = k.conrelid
    JOIN pg_class AS r ON r.oid = k.confrelid
    WHERE k.contype = 'f' AND k.conparentid = 0 AND c.relnamespace = 'public'::regnamespace
        AND c.relname IN (SELECT t.table_name FROM tenant_migrate.tenant_tables AS t)
        AND r.relname IN (SELECT t.table_name FROM tenant_migrate.tenant_tables AS t) AND r.relname <> 'users'
)
SELECT fk.table_name, fk.conname, pg_get_constraintdef(fk.oid) AS definition
FROM p CROSS JOIN fk
WHERE NOT fk.carries_tenant
    AND NOT EXISTS (SELECT 1 FROM tenant_migrate.tenant_references AS r
                    WHERE r.table_name = fk.table_name AND r.constraint_name = fk.conname AND NOT r.replaceable)
