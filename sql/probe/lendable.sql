-- probe / lendable: why a session of ours may not act as role %(role)s (NULL: it may). Acting as a role means
-- holding its powers: a role that is (or can become, through its memberships) a superuser, or that has
-- CREATEROLE, CREATEDB, REPLICATION or BYPASSRLS, a predefined role (pg_execute_server_program, ...), or the
-- migration's own role, would hand the app's code that power in our session.
WITH RECURSIVE reach (oid) AS (
    SELECT r.oid FROM pg_roles AS r WHERE r.rolname = %(role)s
    UNION
    SELECT m.roleid FROM pg_auth_members AS m JOIN reach ON m.member = reach.oid
)
SELECT string_agg(concat_ws(', ',
           CASE WHEN g.rolsuper THEN 'superuser' END,
           CASE WHEN g.rolcreaterole THEN 'CREATEROLE' END,
           CASE WHEN g.rolcreatedb THEN 'CREATEDB' END,
           CASE WHEN g.rolreplication THEN 'REPLICATION' END,
           CASE WHEN g.rolbypassrls THEN 'BYPASSRLS' END,
           CASE WHEN starts_with(g.rolname, 'pg_') THEN 'the predefined role ' || g.rolname END,
           CASE WHEN g.rolname = current_user THEN 'the migration''s own role ' || g.rolname END)
           || CASE WHEN g.rolname <> %(role)s THEN ' (through its membership in ' || g.rolname || ')' ELSE '' END,
       '; ' ORDER BY g.rolname) AS why
FROM reach
JOIN pg_roles AS g ON g.oid = reach.oid
WHERE g.rolsuper OR g.rolcreaterole OR g.rolcreatedb OR g.rolreplication OR g.rolbypassrls
   OR starts_with(g.rolname, 'pg_') OR g.rolname = current_user;
