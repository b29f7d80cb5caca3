-- guard / app_statement_counts: every top-level statement's calls and total time in this database now, without
-- its text (cheap: read every second while pacing is on); the pacing keeps those of app_statements.sql.
SELECT s.userid, s.queryid, s.calls, s.total_exec_time
FROM {schema}.pg_stat_statements(false) AS s
WHERE s.dbid = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database()) AND s.toplevel;
