-- 09_distribute / up / 02_owner_tables
-- Requires: 09_distribute / up / 01_save_replaced_objects
-- mode: generated
-- For each global key the app needs (tenant_migrate.citus_obstacles, kind global_key): a new, empty table of its
-- values, each with the tenant that owns it (step 07 fills it and makes it a reference table, a copy on every node,
-- that the key's table references). Row-level security and grants as on the tenant tables: a tenant sees and
-- writes only its own values, the app roles may add and remove them but not change them. One statement per
-- transaction, the grant last (no app role reaches the table before its row-level security is on); each only if
-- not done yet (a resumed phase finishes a table it began).

WITH owner AS (
    SELECT o.owner_table, o.table_name, o.key_column, format_type(a.atttypid, a.atttypmod) AS key_type,
           to_regclass('public.' || quote_ident(o.owner_table)) AS made
    FROM tenant_migrate.citus_obstacles AS o
    JOIN pg_attribute AS a ON a.attrelid = format('public.%I', o.table_name)::regclass AND a.attname = o.key_column
    WHERE o.kind = 'global_key' AND o.action = 'rebuild'
),
todo (owner_table, ord, statement, note) AS (
    SELECT owner_table, 1,
           format('CREATE TABLE public.%1$I (%2$I %3$s NOT NULL, user_id bigint NOT NULL, '
                  'CONSTRAINT %4$I PRIMARY KEY (%2$I), CONSTRAINT %5$I UNIQUE (%2$I, user_id))', owner_table,
                  key_column, key_type, left(owner_table, 58) || '_pkey', left(owner_table, 52) || '_tenant_key'),
           format('table %s: the owner of each %s.%s', owner_table, table_name, key_column)
    FROM owner WHERE made IS NULL
    UNION ALL
    SELECT owner_table, 2,
           format('CREATE POLICY tenant_isolation ON public.%I USING (user_id = public.app_current_tenant()) '
                  'WITH CHECK (user_id = public.app_current_tenant())', owner_table), NULL
    FROM owner
    WHERE NOT EXISTS (SELECT 1 FROM pg_policy AS p WHERE p.polrelid = made AND p.polname = 'tenant_isolation')
    UNION ALL
    SELECT owner_table, 3,
           format('CREATE POLICY tenant_owner_all ON public.%I TO tenant_owner USING (true) WITH CHECK (true)',
                  owner_table), NULL
    FROM owner
    WHERE NOT EXISTS (SELECT 1 FROM pg_policy AS p WHERE p.polrelid = made AND p.polname = 'tenant_owner_all')
    UNION ALL
    SELECT owner_table, 4,
           format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', owner_table), NULL
    FROM owner
    WHERE NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = made AND c.relrowsecurity AND c.relforcerowsecurity)
    UNION ALL
    SELECT owner_table, 5, format('GRANT SELECT, INSERT, DELETE ON public.%I TO tenant_app, tenant_legacy', owner_table),
           NULL
    FROM owner
)
SELECT statement, note FROM todo ORDER BY owner_table, ord;
