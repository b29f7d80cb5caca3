-- compat / statements: the app's statements in this database, as pg_stat_statements normalized them
-- (constants replaced by $1, $2, ...), most called first. {schema} is the extension's schema.
-- Left out, as not the app's: other databases; statements run inside functions (not top level); roles
-- that cannot log in (reached only by SET ROLE, as the acceptance checklist does for tenant_app); the role running
-- this query, which is the migration's own (its DDL, backfill, validation, backups); the login roles of ours
-- that act as app roles in a check (tenant_migrate/probe.py); and this check's own EXPLAIN, named
-- tenant_migrate_compat. calls_a_day: calls since the statistics were last reset,
-- per day (over at least an hour).
SELECT s.queryid,
       r.rolname AS role_name,
       s.query,
       s.calls,
       s.calls * 86400.0 / greatest(extract(EPOCH FROM now() - i.stats_reset), 3600) AS calls_a_day
FROM {schema}.pg_stat_statements AS s
JOIN pg_roles AS r ON r.oid = s.userid
CROSS JOIN {schema}.pg_stat_statements_info AS i
WHERE s.dbid = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
  AND s.toplevel
  AND r.rolcanlogin
  AND r.rolname <> current_user
  AND NOT starts_with(r.rolname, 'tenant_migrate_probe_')
  AND s.query NOT LIKE '%tenant_migrate_compat%'
ORDER BY s.calls DESC, r.rolname, s.queryid;
