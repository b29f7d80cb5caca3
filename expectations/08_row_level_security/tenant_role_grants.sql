-- expectations / 08_row_level_security / tenant_role_grants
-- tenant_app and tenant_legacy may read every tenant table and write all but those whose columns the platform
-- decides: users and user_subscriptions (its limits), chatbots (its WhatsApp number), usage_tracking and
-- monthly_usage_summary (counters, overages), api_keys (permissions; a key may only be deleted); no privilege on
-- any other table or view of the schema is granted to them (not even on a column)
WITH p AS (SELECT * FROM {batch} AS batch),
tenant AS (SELECT t.table_name FROM tenant_migrate.tenant_tables AS t),
roles (name) AS (VALUES ('tenant_app'), ('tenant_legacy')),
read_only (table_name, also) AS (
    VALUES ('users', ''), ('user_subscriptions', ''), ('chatbots', ''), ('usage_tracking', ''),
           ('monthly_usage_summary', ''), ('api_keys', 'DELETE')
),
wanted AS (
    SELECT t.table_name, priv.name AS privilege,
           priv.name = 'SELECT' OR r.table_name IS NULL OR priv.name = r.also AS granted
    FROM tenant AS t CROSS JOIN (VALUES ('SELECT'), ('INSERT'), ('UPDATE'), ('DELETE')) AS priv (name)
    LEFT JOIN read_only AS r ON r.table_name = t.table_name
)
SELECT w.table_name, r.name AS role_name, w.privilege,
       CASE WHEN w.granted THEN 'missing' ELSE 'granted, should not be' END AS problem
FROM p CROSS JOIN wanted AS w CROSS JOIN roles AS r
WHERE has_table_privilege(r.name, 'public.' || quote_ident(w.table_name), w.privilege) IS DISTINCT FROM w.granted
   OR (NOT w.granted AND w.privilege <> 'DELETE'
       AND has_any_column_privilege(r.name, 'public.' || quote_ident(w.table_name), w.privilege))
UNION ALL
SELECT c.relname, r.name, a.privilege_type, 'granted on a relation that is not a tenant table'
FROM p CROSS JOIN roles AS r
JOIN pg_class AS c ON c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
CROSS JOIN LATERAL aclexplode(c.relacl) AS a
WHERE c.relname NOT IN (SELECT table_name FROM tenant) AND a.grantee = to_regrole(r.name)
