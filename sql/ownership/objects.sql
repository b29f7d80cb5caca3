-- ownership / objects: every object of the public schema (and the roles and memberships the migration may
-- create), one row each: kind, table (or ''), name, and a detail whose change counts as a change of the object.
-- The runner takes it before and after each statement it runs, in the same transaction: what appeared is
-- recorded as created by the migration, and nothing that belongs to the app may disappear or change.
SELECT 'table' AS kind, '' AS table_name, c.relname::text AS name, c.relkind::text AS detail
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT 'sequence', '', c.relname, ''
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'S'
UNION ALL
SELECT 'column', c.relname, a.attname, format_type(a.atttypid, a.atttypmod)
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'default', c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid)
FROM pg_attrdef AS d
JOIN pg_attribute AS a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
JOIN pg_class AS c ON c.oid = d.adrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND NOT a.attisdropped
UNION ALL
SELECT 'not_null', c.relname, a.attname, ''
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
UNION ALL
SELECT 'constraint', c.relname, k.conname,
       pg_get_constraintdef(k.oid)
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND k.contype IN ('p', 'u', 'f', 'c', 'x')
UNION ALL
SELECT 'index', t.relname, i.relname, pg_get_indexdef(x.indexrelid) || CASE WHEN x.indisvalid THEN '' ELSE ' INVALID' END
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = 'public'
UNION ALL
SELECT 'trigger', c.relname, g.tgname, pg_get_triggerdef(g.oid) || ' ' || g.tgenabled::text
FROM pg_trigger AS g
JOIN pg_class AS c ON c.oid = g.tgrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND NOT g.tgisinternal
UNION ALL
SELECT 'rls', c.relname, 'enabled', ''
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relrowsecurity
UNION ALL
SELECT 'rls', c.relname, 'forced', ''
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relforcerowsecurity
UNION ALL
SELECT 'policy', p.tablename, p.policyname,
       p.cmd || ' ' || array_to_string(p.roles, ',') || ' ' || coalesce(p.qual, '') || ' / ' || coalesce(p.with_check, '')
FROM pg_policies AS p
WHERE p.schemaname = 'public'
UNION ALL
SELECT 'function', '', p.oid::regprocedure::text, md5(pg_get_functiondef(p.oid))
FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
UNION ALL
-- privileges granted on public's tables, sequences and functions, and on the schema itself: one object per
-- grantee and privilege (the owner's own privileges are not grants)
SELECT 'grant', c.relname, CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END || ':' || a.privilege_type, ''
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) AS a
WHERE n.nspname = 'public' AND a.grantee <> c.relowner
UNION ALL
SELECT 'grant', '', p.oid::regprocedure::text || ' to ' || CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END || ':' || a.privilege_type, ''
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
CROSS JOIN LATERAL aclexplode(p.proacl) AS a
WHERE n.nspname = 'public' AND a.grantee <> p.proowner
UNION ALL
SELECT 'grant', '', 'schema public to ' || CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END || ':' || a.privilege_type, ''
FROM pg_namespace AS n
CROSS JOIN LATERAL aclexplode(n.nspacl) AS a
WHERE n.nspname = 'public' AND a.grantee <> n.nspowner
UNION ALL
SELECT 'role', '', r.rolname, ''
FROM pg_roles AS r
WHERE r.rolname IN ('tenant_app', 'tenant_legacy', 'tenant_owner')
UNION ALL
SELECT 'membership', '', pg_get_userbyid(m.member) || ' in ' || pg_get_userbyid(m.roleid), ''
FROM pg_auth_members AS m
WHERE pg_get_userbyid(m.roleid) IN ('tenant_app', 'tenant_legacy', 'tenant_owner');
