-- guard / app_statements: the app's statements in this database as pg_stat_statements counted them so far (calls,
-- total time): the usual time of each, which the pacing compares the last second's with. {schema} is the
-- extension's schema. The app's are the top-level statements of login roles other than the one running this
-- query (the migration's, as the app-statement check decides); when no other role ran any, the app shares the
-- migration's role: then every statement but the migration's own, known by its text (its SQL files open with a
-- comment; its ledger, catalog and session queries name tenant_migrate, pg_catalog, pg_stat_* or set_config).
WITH s AS (
    SELECT s.userid, s.queryid, s.calls, s.total_exec_time, s.query, r.rolname = current_user AS migration_role
    FROM {schema}.pg_stat_statements(true) AS s
    JOIN pg_roles AS r ON r.oid = s.userid
    WHERE s.dbid = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
        AND s.toplevel AND r.rolcanlogin AND s.calls > 0
)
SELECT s.userid, s.queryid, s.calls, s.total_exec_time
FROM s
WHERE CASE WHEN EXISTS (SELECT 1 FROM s AS o WHERE NOT o.migration_role) THEN NOT s.migration_role
           ELSE NOT (s.query LIKE '--%' OR s.query LIKE '/*%'
                     OR s.query ~* 'tenant_migrate|pg_catalog|pg_stat_|set_config')
      END
    AND s.queryid IS NOT NULL;
