-- catalog / lock_holder: who holds an advisory lock of ours (its key: the migration's or the checklist's) on this database.
SELECT a.pid, a.application_name, a.client_addr, a.backend_start
FROM pg_locks AS l
JOIN pg_stat_activity AS a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.objid = %(key)s::bigint & 4294967295 AND l.classid = (%(key)s::bigint >> 32)
LIMIT 1;
