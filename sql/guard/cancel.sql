-- guard / cancel: cancel the migration work session's statement, only if it is still the one seen blocking the
-- app (same pid, same start), so that a statement started since is never hit. Never an app session: the name
-- is the work session's own (tenant_migrate/db.py WORK_APPLICATION_NAME).
SELECT pg_cancel_backend(pid)
FROM pg_stat_activity
WHERE pid = %(pid)s AND application_name = %(work)s AND state = 'active'
  AND query_start = %(started)s::timestamptz;
