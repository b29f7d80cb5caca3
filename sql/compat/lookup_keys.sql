-- compat / lookup_keys: the columns by which a lookup found one row only while they were unique alone:
-- phone_number and thread_id of a tenant table (one with user_id) that no unique index covers alone
-- any more (phase 5 makes them unique per user_id). A lookup by one of them, without the tenant, may
-- then return another tenant's row. And the same values held by the app's own tables without user_id (its store of
-- conversations keyed by thread_id, say: found by the column's name): once a tenant table holds that value unique per
-- tenant only, a lookup there by it alone may mix two tenants' rows (tenant_migrate/check/soft_references.py).
WITH per_tenant AS (
    SELECT c.relname AS table_name, a.attname AS column_name
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attname IN ('phone_number', 'thread_id') AND NOT a.attisdropped
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
      AND EXISTS (SELECT 1 FROM pg_attribute AS u
                  WHERE u.attrelid = c.oid AND u.attname = 'user_id' AND NOT u.attisdropped)
      AND NOT EXISTS (SELECT 1 FROM pg_index AS x
                      WHERE x.indrelid = c.oid AND x.indisunique AND x.indnkeyatts = 1 AND x.indpred IS NULL
                        AND x.indkey[0] = a.attnum)
)
SELECT table_name, column_name FROM per_tenant
UNION
SELECT c.relname, a.attname
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND NOT a.attisdropped
    AND a.attname IN (SELECT p.column_name FROM per_tenant AS p)
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND NOT EXISTS (SELECT 1 FROM pg_attribute AS u
                  WHERE u.attrelid = c.oid AND u.attname = 'user_id' AND NOT u.attisdropped)
ORDER BY 1, 2;
