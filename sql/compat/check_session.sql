-- compat / check_session: the settings of one statement's check, local to its transaction (rolled back),
-- the last of them the role that ran the statement (as SET LOCAL ROLE: the check then acts as it). It runs in
-- the session of a login role of ours that is a member of that role and of nothing else (tenant_migrate/probe.py).
-- The search_path that role logs in with (role_search_path.sql; NULL: keep this session's). Short lock and
-- statement timeouts: the check runs on the live database at a gate and must never queue
-- the app behind it. Generic plans: a plan that holds for any parameter value. The name in the comment leaves
-- this query out of the app's statements (statements.sql) where pg_stat_statements records it.
SELECT /* tenant_migrate_compat */
       set_config('lock_timeout', '100ms', true),
       set_config('statement_timeout', '5s', true),
       set_config('plan_cache_mode', 'force_generic_plan', true),
       set_config('search_path', coalesce(%(search_path)s, current_setting('search_path')), true),
       set_config('role', %(role)s, true);
