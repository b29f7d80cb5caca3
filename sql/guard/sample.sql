-- guard / sample: one reading of what the migration does to the live app and its replicas, in one round trip.
-- Parameters: ours, the prefix of our sessions' application_name ('tenant-migrate'); work, the name of the session
-- that runs the steps ('tenant-migrate/work'); tenant_migrate/db.py names them. Every other client backend of this
-- database is the app. pg_blocking_pids() takes the lock manager's locks for a moment, so it is called only for
-- sessions waiting on a heavyweight lock. A session blocked by an app session that is itself blocked by ours
-- counts too (its wait is the migration's doing), with the migration's session at the root. Statements are
-- shown without their leading comment lines (our SQL files open with a header). An app statement's text holds the
-- values it was sent with: the guard shows it as pg_stat_statements normalized it (by its query_id, PostgreSQL 14+,
-- known once the statement is parsed: not yet for one waiting for a table lock while it is parsed) or redacted
-- (tenant_migrate/evidence.py), never as read here.
WITH RECURSIVE activity AS (
    SELECT pid, application_name, state, query, query_start, xact_start, wait_event_type,
           starts_with(application_name, %(ours)s) AS ours
    FROM pg_stat_activity
    WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
),
waiting AS (
    SELECT a.pid, a.query, a.query_start, pg_blocking_pids(a.pid) AS blockers
    FROM activity AS a
    WHERE a.wait_event_type = 'Lock' AND NOT a.ours
),
blocked (pid, query, query_start, root) AS (
    SELECT w.pid, w.query, w.query_start, o.pid
    FROM waiting AS w
    JOIN activity AS o ON o.ours AND o.pid = ANY (w.blockers)
    UNION
    SELECT w.pid, w.query, w.query_start, b.root
    FROM waiting AS w
    JOIN blocked AS b ON b.pid = ANY (w.blockers)
),
waits AS (
    SELECT DISTINCT ON (b.pid)
           b.pid, left(regexp_replace(b.query, '^(\s*--[^\n]*\n)*\s*', ''), 300) AS query, b.query_start AS started,
           1000 * extract(epoch FROM now() - coalesce(l.waitstart, now())) AS wait_ms,
           o.pid AS blocker, o.application_name AS blocker_name,
           left(regexp_replace(o.query, '^(\s*--[^\n]*\n)*\s*', ''), 300) AS blocker_query,
           o.query_start AS blocker_started,
           (SELECT (to_jsonb(x) ->> 'query_id')::bigint FROM pg_stat_activity AS x WHERE x.pid = b.pid) AS query_id
    FROM blocked AS b
    JOIN activity AS o ON o.pid = b.root
    LEFT JOIN pg_locks AS l ON l.pid = b.pid AND NOT l.granted
    ORDER BY b.pid, l.waitstart
),
oldest AS (
    SELECT pid, left(query, 300) AS query, state, extract(epoch FROM now() - xact_start) AS age_s,
           (SELECT (to_jsonb(x) ->> 'query_id')::bigint FROM pg_stat_activity AS x WHERE x.pid = activity.pid)
               AS query_id
    FROM activity
    WHERE NOT ours AND xact_start IS NOT NULL
    ORDER BY xact_start
    LIMIT 1
)
SELECT extract(epoch FROM now()) AS at,
       pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS lsn,
       (SELECT coalesce(json_agg(w), '[]') FROM waits AS w) AS waits,
       (SELECT coalesce(json_agg(json_build_object(
            'name', coalesce(nullif(r.application_name, ''), 'walreceiver') || '@'
                    || coalesce(host(r.client_addr), 'local'),
            'state', r.state,
            'write_lag_s', extract(epoch FROM r.write_lag),
            'flush_lag_s', extract(epoch FROM r.flush_lag),
            'replay_lag_s', extract(epoch FROM r.replay_lag),
            'replay_lsn', pg_wal_lsn_diff(r.replay_lsn, '0/0')::bigint,
            'behind_bytes', pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn)::bigint)), '[]')
        FROM pg_stat_replication AS r WHERE r.state <> 'backup') AS standbys,
       (SELECT coalesce(json_agg(json_build_object(
            'slot', s.slot_name, 'active', s.active,
            'retained_bytes', pg_wal_lsn_diff(pg_current_wal_lsn(), s.restart_lsn)::bigint)), '[]')
        FROM pg_replication_slots AS s WHERE s.restart_lsn IS NOT NULL) AS slots,
       (SELECT row_to_json(o) FROM oldest AS o) AS oldest,
       (SELECT count(*) FROM activity WHERE NOT ours AND state = 'active') AS active,
       (SELECT coalesce(json_agg(json_build_object('pid', pid, 'state', state, 'started', query_start)), '[]')
        FROM activity WHERE application_name = %(work)s) AS work;
