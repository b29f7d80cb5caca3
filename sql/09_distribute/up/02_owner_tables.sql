-- 09_distribute / up / 02_owner_tables
-- Requires: 09_distribute / up / 01_save_replaced_objects
-- mode: generated
-- For each global key the app needs (tenant_migrate.citus_obstacles, kind global_key): a new, empty table of its
-- values, each with the tenant that owns it (step 07 fills it and makes it a reference table, a copy on every node,
-- that the key's table references). Row-level security and grants as on the tenant tables: a tenant sees and
-- writes only its own values, the app roles may add and remove them but not change them. One table per transaction.

SELECT concat_ws('; ',
           format('CREATE TABLE public.%1$I (%2$I %3$s NOT NULL, user_id bigint NOT NULL, '
                  'CONSTRAINT %4$I PRIMARY KEY (%2$I), CONSTRAINT %5$I UNIQUE (%2$I, user_id))', o.owner_table,
                  o.key_column, format_type(a.atttypid, a.atttypmod), left(o.owner_table, 58) || '_pkey',
                  left(o.owner_table, 52) || '_tenant_key'),
           format('CREATE POLICY tenant_isolation ON public.%I USING (user_id = public.app_current_tenant()) '
                  'WITH CHECK (user_id = public.app_current_tenant())', o.owner_table),
           format('CREATE POLICY tenant_owner_all ON public.%I TO tenant_owner USING (true) WITH CHECK (true)',
                  o.owner_table),
           format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', o.owner_table),
           format('GRANT SELECT, INSERT, DELETE ON public.%I TO tenant_app, tenant_legacy', o.owner_table)
       ) AS statement,
       format('table %s: the owner of each %s.%s', o.owner_table, o.table_name, o.key_column) AS note
FROM tenant_migrate.citus_obstacles AS o
JOIN pg_attribute AS a ON a.attrelid = format('public.%I', o.table_name)::regclass AND a.attname = o.key_column
WHERE o.kind = 'global_key' AND o.action = 'rebuild' AND to_regclass('public.' || quote_ident(o.owner_table)) IS NULL
ORDER BY o.owner_table;
