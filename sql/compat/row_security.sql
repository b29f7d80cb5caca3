-- compat / row_security: whether row-level security applies to the current role on any of the tables a statement
-- reads or writes (run as the app's role, in the check's transaction). The comment names the check, so that
-- statements.sql leaves this query out where pg_stat_statements counts it.
SELECT /* tenant_migrate_compat */
       coalesce(bool_or(row_security_active(format('%%I.%%I', r.schema_name, r.table_name)::regclass)), false)
FROM unnest(%(schemas)s::text[], %(tables)s::text[]) AS r (schema_name, table_name);
