-- guard / visibility: can this role see every session's query and its replicas' positions? Without
-- pg_read_all_stats (pg_monitor has it) PostgreSQL hides other roles' queries and pg_stat_replication's columns.
SELECT rolsuper OR pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER')
FROM pg_roles
WHERE rolname = current_user;
