-- 09_distribute / up / 03_tenant_key_indexes
-- Requires: 09_distribute / up / 02_owner_tables
-- mode: generated
-- The unique indexes of the keys that replace those without the tenant: (user_id, id) for each primary key,
-- (user_id, <columns>) for each unique key, built CONCURRENTLY (SHARE UPDATE EXCLUSIVE: reads and writes go on).
-- The (user_id, id) unique keys phase 5 made stay: the references between tenant tables use them.

SELECT format('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS %I ON public.%I USING btree %s', o.replacement,
              o.table_name, regexp_replace(o.replacement_definition, '^(PRIMARY KEY|UNIQUE) ', '')) AS statement,
       format('index %s for %s on %s', o.replacement, o.replacement_definition, o.table_name) AS note
FROM tenant_migrate.citus_obstacles AS o
WHERE o.action = 'rebuild' AND o.kind IN ('primary_key', 'global_key', 'tenant_key') AND o.replacement IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM pg_index AS x
                    WHERE x.indexrelid = to_regclass('public.' || quote_ident(o.replacement)) AND x.indisvalid)
ORDER BY o.table_name, o.replacement;
