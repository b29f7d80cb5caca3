-- check / app_string_columns: the columns that could hold a copy of a contact's phone number or thread id in the
-- app's own tables (not its tenant tables): every text-like or uuid column (a domain over one too) of a table in a
-- schema of the app's that has no user_id (so the plan gives it no tenant) and is none of the legacy tables nor a
-- table the migration created. The LangGraph checkpointer's tables (checkpoints, checkpoint_writes, ...) are such.
SELECT n.nspname::text AS schema_name, c.relname::text AS table_name, a.attname::text AS column_name
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type AS ty ON ty.oid = a.atttypid
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'tenant_migrate') AND n.nspname NOT LIKE 'pg\_%%'
    AND NOT (n.nspname = 'public' AND c.relname = ANY (%(excluded)s::text[]))
    AND NOT EXISTS (SELECT 1 FROM pg_attribute AS u
                    WHERE u.attrelid = c.oid AND u.attname = 'user_id' AND u.attnum > 0 AND NOT u.attisdropped)
    AND (CASE WHEN ty.typtype = 'd' THEN ty.typbasetype ELSE ty.oid END)
        IN ('text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'uuid'::regtype)
ORDER BY 1, 2, a.attnum
