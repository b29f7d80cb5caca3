-- compat / role_search_path: the search_path a role gets when it logs in to this database (ALTER ROLE ... SET,
-- ALTER ROLE ... IN DATABASE ... SET, ALTER DATABASE ... SET), most specific first; no row: the server's
-- default. SET ROLE keeps the checker's own search_path, so the check sets this one.
SELECT substr(c.setting, length('search_path=') + 1) AS search_path
FROM pg_db_role_setting AS s
CROSS JOIN LATERAL unnest(s.setconfig) AS c (setting)
WHERE starts_with(c.setting, 'search_path=')
  AND s.setrole IN (0, (SELECT r.oid FROM pg_roles AS r WHERE r.rolname = %(role)s))
  AND s.setdatabase IN (0, (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database()))
ORDER BY s.setrole = 0, s.setdatabase = 0
LIMIT 1;
