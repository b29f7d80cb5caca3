-- catalog / preflight: one row per problem that must stop a migration before it changes anything.
-- Reads only. %(phase)s is the phase about to be applied; %(resuming)s is true when an unfinished run of it
-- is resumed (its own objects may then exist already).
SELECT 'legacy table ' || t.name || ' is missing from the public schema' AS problem
FROM unnest(ARRAY['contacts', 'messages', 'orders', 'campaigns', 'campaign_subscribers']) AS t (name)
WHERE to_regclass('public.' || t.name) IS NULL
UNION ALL
SELECT format('%%s.%%s already exists (%%s) although phase 2 is not applied: the database was changed '
              'outside tenant-migrate; rename or drop that column first', c.table_name, c.column_name, c.data_type)
FROM information_schema.columns AS c
WHERE %(phase)s <= 2 AND NOT (%(phase)s = 2 AND %(resuming)s) AND c.table_schema = 'public'
  AND c.table_name IN ('contacts', 'messages', 'orders', 'campaigns')
  AND c.column_name IN ('user_id', 'chatbot_id')
UNION ALL
SELECT format('table public.%%s already exists although phase 1 is not applied: the database was changed '
              'outside tenant-migrate', t.name)
FROM unnest(ARRAY['users', 'user_subscriptions', 'chatbots']) AS t (name)
WHERE %(phase)s <= 1 AND NOT %(resuming)s AND to_regclass('public.' || t.name) IS NOT NULL
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
  AND to_regnamespace('tenant_migrate') IS NULL;
