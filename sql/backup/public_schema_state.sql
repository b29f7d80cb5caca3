-- backup / public_schema_state: statements that give a recreated public schema the owner, grants and
-- comment the current one has (an in-place restore drops and recreates it; pg_dump leaves it out).
SELECT format('ALTER SCHEMA public OWNER TO %I', pg_get_userbyid(n.nspowner))
FROM pg_namespace AS n WHERE n.nspname = 'public'
UNION ALL
SELECT format('GRANT %s ON SCHEMA public TO %s%s', a.privilege_type,
              CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
              CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
FROM pg_namespace AS n, aclexplode(n.nspacl) AS a
WHERE n.nspname = 'public' AND a.grantee <> n.nspowner
UNION ALL
SELECT format('COMMENT ON SCHEMA public IS %L', d.description)
FROM pg_namespace AS n JOIN pg_description AS d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass
WHERE n.nspname = 'public';
