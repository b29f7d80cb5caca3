-- catalog / cancel_autovacuum: cancel this database's autovacuum workers, except those preventing
-- wraparound. PostgreSQL cancels an autovacuum that blocks a lock request itself, but only after
-- deadlock_timeout (1 s); our lock_timeout is shorter, so without this a DDL step behind a long
-- autovacuum of a big table never gets its lock. The workers start again on their own later.
SELECT pid, query, pg_cancel_backend(pid)
FROM pg_stat_activity
WHERE backend_type = 'autovacuum worker' AND datname = current_database()
  AND query NOT LIKE '%to prevent wraparound%';
