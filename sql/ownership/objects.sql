-- ownership / objects: every object of the public schema (and the roles and memberships the migration may
-- create), one row each: kind, table (or ''), name, and a detail whose change counts as a change of the object;
-- then the object's identity in the catalog (objid, objsub: the oid of the table, index, constraint, trigger,
-- policy, function or role, and the column's number or the grantee's oid) and the version of the catalog row
-- the detail comes from (its xmin).
-- The runner reads it before and after each statement, in one REPEATABLE READ snapshot: an object that appears,
-- disappears or whose row got a new version between the two was made, dropped or changed by the statement itself
-- (no other session's commit is visible in that snapshot). The deparsing functions (pg_get_*def, pg_get_expr) read
-- the latest catalog, not the snapshot: an object another session dropped meanwhile may make them fail or return
-- NULL. So the second read skips them for every object whose row is still the version the first read saw (the
-- setting tenant_migrate.known lists those, as kind:objid:objsub:version) and takes its detail from the first.
WITH known AS (
    SELECT unnest(string_to_array(current_setting('tenant_migrate.known', true), ',')) AS v
)
SELECT 'table' AS kind, '' AS table_name, c.relname::text AS name, c.relkind::text AS detail,
       c.oid AS objid, 0::bigint AS objsub, c.xmin::text AS version
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
UNION ALL
SELECT 'sequence', '', c.relname, '', c.oid, 0, c.xmin::text
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'S'
UNION ALL
SELECT 'column', c.relname, a.attname, CASE WHEN 'column:' || c.oid || ':' || a.attnum || ':' || a.xmin IN (SELECT v FROM known) THEN NULL
            ELSE format_type(a.atttypid, a.atttypmod) END, c.oid, a.attnum, a.xmin::text
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'default', c.relname, a.attname, CASE WHEN 'default:' || c.oid || ':' || a.attnum || ':' || d.xmin IN (SELECT v FROM known) THEN NULL
            ELSE pg_get_expr(d.adbin, d.adrelid) END, c.oid, a.attnum, d.xmin::text
FROM pg_attrdef AS d
JOIN pg_attribute AS a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
JOIN pg_class AS c ON c.oid = d.adrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND NOT a.attisdropped
UNION ALL
SELECT 'not_null', c.relname, a.attname, '', c.oid, a.attnum, a.xmin::text
FROM pg_attribute AS a
JOIN pg_class AS c ON c.oid = a.attrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
UNION ALL
SELECT 'constraint', c.relname, k.conname, CASE WHEN 'constraint:' || k.oid || ':0:' || k.xmin IN (SELECT v FROM known) THEN NULL
            ELSE pg_get_constraintdef(k.oid) END, k.oid, 0, k.xmin::text
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND k.contype IN ('p', 'u', 'f', 'c', 'x')
UNION ALL
SELECT 'index', t.relname, i.relname, CASE WHEN 'index:' || i.oid || ':0:' || x.xmin || '/' || i.xmin IN (SELECT v FROM known) THEN NULL
            ELSE pg_get_indexdef(x.indexrelid) || CASE WHEN x.indisvalid THEN '' ELSE ' INVALID' END END,
       i.oid, 0, x.xmin::text || '/' || i.xmin::text
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_class AS t ON t.oid = x.indrelid
JOIN pg_namespace AS n ON n.oid = t.relnamespace
WHERE n.nspname = 'public'
UNION ALL
SELECT 'trigger', c.relname, g.tgname, CASE WHEN 'trigger:' || g.oid || ':0:' || g.xmin IN (SELECT v FROM known) THEN NULL
            ELSE pg_get_triggerdef(g.oid) || ' ' || g.tgenabled::text END, g.oid, 0, g.xmin::text
FROM pg_trigger AS g
JOIN pg_class AS c ON c.oid = g.tgrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND NOT g.tgisinternal
UNION ALL
SELECT 'rls', c.relname, 'enabled', '', c.oid, 0, c.xmin::text
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relrowsecurity
UNION ALL
SELECT 'rls', c.relname, 'forced', '', c.oid, 1, c.xmin::text
FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relforcerowsecurity
UNION ALL
-- as the view pg_policies shows a policy (command, roles, USING / WITH CHECK), read from pg_policy itself
SELECT 'policy', c.relname, p.polname,
       CASE WHEN 'policy:' || p.oid || ':0:' || p.xmin IN (SELECT v FROM known) THEN NULL ELSE
       CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE' WHEN 'd' THEN 'DELETE'
                     ELSE 'ALL' END
       || ' ' || CASE WHEN p.polroles = '{0}' THEN 'public'
                      ELSE array_to_string(ARRAY(SELECT r.rolname FROM pg_roles AS r WHERE r.oid = ANY (p.polroles)
                                                 ORDER BY r.rolname), ',') END
       || ' ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '') || ' / '
       || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '') END,
       p.oid, 0, p.xmin::text
FROM pg_policy AS p
JOIN pg_class AS c ON c.oid = p.polrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
UNION ALL
SELECT 'function', '', p.oid::regprocedure::text, CASE WHEN 'function:' || p.oid || ':0:' || p.xmin IN (SELECT v FROM known) THEN NULL
            ELSE md5(pg_get_functiondef(p.oid)) END, p.oid, 0, p.xmin::text
FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
UNION ALL
-- privileges granted on public's tables, sequences and functions, and on the schema itself: one object per
-- grantee and privilege (the owner's own privileges are not grants)
SELECT 'grant', c.relname, CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END || ':' || a.privilege_type, '',
       c.oid, a.grantee::bigint, c.xmin::text
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) AS a
WHERE n.nspname = 'public' AND a.grantee <> c.relowner
UNION ALL
SELECT 'grant', '', p.oid::regprocedure::text || ' to ' || CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END || ':' || a.privilege_type, '',
       p.oid, a.grantee::bigint, p.xmin::text
FROM pg_proc AS p
JOIN pg_namespace AS n ON n.oid = p.pronamespace
CROSS JOIN LATERAL aclexplode(p.proacl) AS a
WHERE n.nspname = 'public' AND a.grantee <> p.proowner
UNION ALL
SELECT 'grant', '', 'schema public to ' || CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END || ':' || a.privilege_type, '',
       n.oid, a.grantee::bigint, n.xmin::text
FROM pg_namespace AS n
CROSS JOIN LATERAL aclexplode(n.nspacl) AS a
WHERE n.nspname = 'public' AND a.grantee <> n.nspowner
UNION ALL
SELECT 'role', '', r.rolname, '', r.oid, 0, ''
FROM pg_roles AS r
WHERE r.rolname IN ('tenant_app', 'tenant_legacy', 'tenant_owner')
UNION ALL
-- one membership per role and member, whoever granted it (PostgreSQL 16+ keeps one row per grantor: a CREATEROLE
-- role's own grant of a role it created sits beside the automatic one), its version that of all its rows
SELECT 'membership', '', pg_get_userbyid(m.member) || ' in ' || pg_get_userbyid(m.roleid), '', m.roleid, m.member::bigint,
       string_agg(m.xmin::text, ',' ORDER BY m.grantor)
FROM pg_auth_members AS m
WHERE pg_get_userbyid(m.roleid) IN ('tenant_app', 'tenant_legacy', 'tenant_owner')
GROUP BY m.roleid, m.member;
