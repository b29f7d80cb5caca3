-- compat / check_session: the settings of one statement's check, local to its transaction (rolled back),
-- the last of them the role that ran the statement (as SET LOCAL ROLE: the check then acts as it).
-- The search_path that role logs in with (role_search_path.sql; NULL: keep this session's). Short lock and
-- statement timeouts: the check runs on the live database at a gate and must never queue
-- the app behind it. Generic plans: a plan that holds for any parameter value. pg_stat_statements leaves
-- the check's own EXPLAIN uncounted where this role may say so; elsewhere statements.sql leaves it out.
SELECT set_config('lock_timeout', '100ms', true),
       set_config('statement_timeout', '5s', true),
       set_config('plan_cache_mode', 'force_generic_plan', true),
       set_config('search_path', coalesce(%(search_path)s, current_setting('search_path')), true),
       (SELECT set_config(s.name, 'none', true)
        FROM pg_settings AS s
        WHERE s.name = 'pg_stat_statements.track'
          AND CASE WHEN s.name = 'pg_stat_statements.track' THEN has_parameter_privilege(s.name, 'SET') END),
       set_config('role', %(role)s, true);
