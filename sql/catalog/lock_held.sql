-- catalog / lock_held: does this session still hold the migration's advisory lock?
SELECT EXISTS (
    SELECT 1 FROM pg_locks AS l
    WHERE l.locktype = 'advisory' AND l.granted AND l.pid = pg_backend_pid()
        AND l.objid = %(key)s::bigint & 4294967295 AND l.classid = (%(key)s::bigint >> 32)
        AND l.objsubid = 1
);
