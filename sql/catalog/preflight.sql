-- catalog / preflight: one row per problem that must stop a migration before it changes anything.
-- Reads only. %(phase)s is the phase about to be applied; %(resuming)s is true when an unfinished run of it
-- is resumed (its own objects may then exist already).
SELECT 'legacy table ' || t.name || ' is missing from the public schema: point --dsn at the legacy database, '
       'or restore the table' AS problem
FROM unnest(ARRAY['contacts', 'messages', 'orders', 'campaigns', 'campaign_subscribers']) AS t (name)
WHERE to_regclass('public.' || t.name) IS NULL
UNION ALL
SELECT format('role %%s cannot alter table public.%%s (owner %%s): run as the owner or a member of its role',
              current_user, c.relname, pg_get_userbyid(c.relowner))
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relname IN ('contacts', 'messages', 'orders', 'campaigns', 'campaign_subscribers')
  AND NOT pg_has_role(current_user, c.relowner, 'USAGE')
UNION ALL
SELECT format('role %%s lacks the CREATE privilege on schema public', current_user)
WHERE NOT has_schema_privilege('public', 'CREATE')
UNION ALL
SELECT format('role %%s lacks the CREATE privilege on database %%s (needed for the ledger schema)',
              current_user, current_database())
WHERE NOT has_database_privilege(current_database(), 'CREATE')
  AND to_regnamespace('tenant_migrate') IS NULL
UNION ALL
SELECT format('role %%s lacks CREATEROLE and role %%s does not exist (phase 8 creates tenant_app, tenant_legacy, '
              'tenant_owner): run as a role with CREATEROLE, or have them created first', current_user, r.name)
FROM unnest(ARRAY['tenant_app', 'tenant_legacy', 'tenant_owner']) AS r (name)
WHERE %(phase)s = 8 AND NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r.name)
  AND NOT (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user)
UNION ALL
SELECT format('login role %%s can read public.contacts but has no tenant: under row-level security it would see '
              'no rows. Before phase 8 run: CREATE ROLE tenant_legacy NOLOGIN; GRANT tenant_legacy TO %%I; '
              '(legacy code, confined to tenant 1) or grant it tenant_app if it names its tenant per transaction '
              '(app_set_tenant)',
              r.rolname, r.rolname)
FROM pg_roles AS r
WHERE %(phase)s = 8 AND r.rolcanlogin AND NOT r.rolsuper AND NOT r.rolbypassrls AND r.rolname <> current_user
  AND r.rolname NOT LIKE 'pg\_%%'
  AND has_table_privilege(r.oid, to_regclass('public.contacts'), 'SELECT')
  AND NOT EXISTS (SELECT 1 FROM pg_roles AS g
                  WHERE g.rolname IN ('tenant_legacy', 'tenant_app', 'tenant_owner') AND pg_has_role(r.oid, g.oid, 'USAGE'))
UNION ALL
SELECT format('role %%s does not inherit %%s and may not grant it to itself: have its admin run GRANT %%s TO %%I',
              current_user, r.rolname, r.rolname, current_user)
FROM pg_roles AS r
WHERE %(phase)s = 8 AND r.rolname IN ('tenant_app', 'tenant_legacy', 'tenant_owner')
  AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
  AND NOT pg_has_role(current_user, r.oid, 'USAGE')
  AND NOT pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION')
  -- before PostgreSQL 16, CREATEROLE may grant any role that is not superuser
  AND NOT (current_setting('server_version_num')::int < 160000
           AND (SELECT rolcreaterole FROM pg_roles WHERE rolname = current_user));
