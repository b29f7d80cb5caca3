-- ownership / can_skip_triggers: may this role set session_replication_role = replica, so that the migration's
-- own row writes fire none of the app's triggers? Superusers may; others once granted SET on the parameter
-- (PostgreSQL 15+: GRANT SET ON PARAMETER session_replication_role TO <role>).
SELECT (SELECT r.rolsuper FROM pg_roles AS r WHERE r.rolname = current_user)
       OR has_parameter_privilege('session_replication_role', 'SET') AS can_skip;
