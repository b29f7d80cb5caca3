-- catalog / oldest_transactions: the longest-open transactions on this database, to name what holds locks.
SELECT pid, usename, coalesce(nullif(application_name, ''), backend_type) AS client, state, now() - xact_start AS age, left(query, 80) AS query
FROM pg_stat_activity
WHERE datname = current_database() AND xact_start IS NOT NULL AND pid <> pg_backend_pid()
ORDER BY xact_start
LIMIT 3;
