-- ledger / trust: one row: whether the schema tenant_migrate is there (present), whether its phase_runs table is
-- (runs), and why it cannot be this migration's ledger, one line each (problems; empty: it can), in one round trip.
-- A rollback drops and gives back what the ledger says, so only the migration's own role (current_user) may own
-- the schema or anything in it, or write to it: no other login role and not PUBLIC may CREATE in the schema or
-- INSERT, UPDATE, DELETE, TRUNCATE (or put a TRIGGER on) anything in it, directly or through a role it is a member
-- of. Superusers can write anything anyway and are not counted. Run before anything reads the ledger.
SELECT pg_catalog.to_regnamespace('tenant_migrate') IS NOT NULL AS present,
       pg_catalog.to_regclass('tenant_migrate.phase_runs') IS NOT NULL AS runs,
       ARRAY(
    WITH ledger AS (
        SELECT n.oid, n.nspowner FROM pg_catalog.pg_namespace AS n WHERE n.nspname = 'tenant_migrate'
    ),
    me AS (
        SELECT r.oid FROM pg_catalog.pg_roles AS r WHERE r.rolname = current_user
    ),
    inside AS (  -- everything in the schema that has an owner
        SELECT kind, name, owner FROM (
            SELECT CASE c.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view'
                                  WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' ELSE 'table' END AS kind,
                   c.relname::text AS name, c.relowner AS owner, c.relnamespace AS nsp
            FROM pg_catalog.pg_class AS c
            UNION ALL SELECT 'function', p.proname, p.proowner, p.pronamespace FROM pg_catalog.pg_proc AS p
            UNION ALL SELECT 'type', t.typname, t.typowner, t.typnamespace FROM pg_catalog.pg_type AS t
            UNION ALL SELECT 'operator', o.oprname, o.oprowner, o.oprnamespace FROM pg_catalog.pg_operator AS o
            UNION ALL SELECT 'collation', o.collname, o.collowner, o.collnamespace FROM pg_catalog.pg_collation AS o
            UNION ALL SELECT 'conversion', o.conname, o.conowner, o.connamespace FROM pg_catalog.pg_conversion AS o
            UNION ALL SELECT 'statistics', o.stxname, o.stxowner, o.stxnamespace FROM pg_catalog.pg_statistic_ext AS o
            UNION ALL SELECT 'operator class', o.opcname, o.opcowner, o.opcnamespace FROM pg_catalog.pg_opclass AS o
            UNION ALL SELECT 'operator family', o.opfname, o.opfowner, o.opfnamespace FROM pg_catalog.pg_opfamily AS o
            UNION ALL SELECT 'text search dictionary', o.dictname, o.dictowner, o.dictnamespace
                      FROM pg_catalog.pg_ts_dict AS o
            UNION ALL SELECT 'text search configuration', o.cfgname, o.cfgowner, o.cfgnamespace
                      FROM pg_catalog.pg_ts_config AS o
        ) AS o
        WHERE o.nsp = (SELECT ledger.oid FROM ledger)
    ),
    others AS (  -- who else could log in and write: every login role but superusers and this one, and PUBLIC
        SELECT r.rolname::text AS name FROM pg_catalog.pg_roles AS r
        WHERE r.rolcanlogin AND NOT r.rolsuper AND r.oid <> (SELECT me.oid FROM me)
        UNION ALL
        SELECT 'public'
    )
    SELECT format('the schema tenant_migrate is owned by %s, not by %s (the migration''s role)',
                  pg_catalog.pg_get_userbyid(ledger.nspowner), current_user) AS problem
    FROM ledger WHERE ledger.nspowner <> (SELECT me.oid FROM me)
    UNION ALL
    SELECT format('%s tenant_migrate.%s is owned by %s, not by %s (the migration''s role)', inside.kind,
                  pg_catalog.quote_ident(inside.name), pg_catalog.pg_get_userbyid(inside.owner), current_user)
    FROM inside WHERE inside.owner <> (SELECT me.oid FROM me)
    UNION ALL
    SELECT format('%s may CREATE in the schema tenant_migrate', CASE others.name WHEN 'public' THEN 'PUBLIC'
                                                                    ELSE 'role ' || pg_catalog.quote_ident(others.name) END)
    FROM others, ledger WHERE pg_catalog.has_schema_privilege(others.name, ledger.oid, 'CREATE')
    UNION ALL
    SELECT format('%s may %s tenant_migrate.%s', CASE others.name WHEN 'public' THEN 'PUBLIC'
                                                     ELSE 'role ' || pg_catalog.quote_ident(others.name) END,
                  privilege, pg_catalog.quote_ident(c.relname))
    FROM pg_catalog.pg_class AS c
    CROSS JOIN others
    CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER']) AS privilege
    WHERE c.relnamespace = (SELECT ledger.oid FROM ledger) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
        AND pg_catalog.has_table_privilege(others.name, c.oid, privilege)
    UNION ALL
    SELECT format('%s may UPDATE tenant_migrate.%s', CASE others.name WHEN 'public' THEN 'PUBLIC'
                                                         ELSE 'role ' || pg_catalog.quote_ident(others.name) END,
                  pg_catalog.quote_ident(c.relname))
    FROM pg_catalog.pg_class AS c
    CROSS JOIN others
    WHERE c.relnamespace = (SELECT ledger.oid FROM ledger) AND c.relkind = 'S'
        AND pg_catalog.has_sequence_privilege(others.name, c.oid, 'UPDATE')
       ) AS problems;
