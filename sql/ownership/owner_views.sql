-- ownership / owner_views: views and materialized views, in any schema of the app's, that read a tenant table
-- (a legacy one, users, or any public table with user_id) and run as their owner: a plain view without
-- security_invoker (PostgreSQL 15+) bypasses row-level security, so whoever may read it sees every tenant's
-- rows. One row each: name, relkind, the tenant tables it reads.
SELECT v.oid::regclass::text AS name, v.relkind::text AS kind, string_agg(DISTINCT t.relname, ', ') AS tables
FROM pg_class AS v
JOIN pg_namespace AS vn ON vn.oid = v.relnamespace
JOIN pg_rewrite AS rw ON rw.ev_class = v.oid
JOIN pg_depend AS d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid AND d.refclassid = 'pg_class'::regclass
JOIN pg_class AS t ON t.oid = d.refobjid AND t.oid <> v.oid AND t.relkind IN ('r', 'p')
JOIN pg_namespace AS tn ON tn.oid = t.relnamespace
WHERE v.relkind IN ('v', 'm') AND tn.nspname = 'public'
    AND vn.nspname NOT IN ('pg_catalog', 'information_schema', 'tenant_migrate')
    AND (t.relname IN ('contacts', 'messages', 'orders', 'campaigns', 'campaign_subscribers', 'users')
         OR EXISTS (SELECT 1 FROM pg_attribute AS a
                    WHERE a.attrelid = t.oid AND a.attname = 'user_id' AND a.attnum > 0 AND NOT a.attisdropped))
    AND NOT (v.relkind = 'v' AND EXISTS (SELECT 1 FROM pg_options_to_table(v.reloptions) AS o
                                         WHERE o.option_name = 'security_invoker' AND o.option_value::boolean))
GROUP BY v.oid, v.relkind
ORDER BY 1;
