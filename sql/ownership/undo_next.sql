-- ownership / undo_next: the newest object phase %(phase)s created that is still there and can be undone on its
-- own, with the statements that undo it (one transaction) and a note naming it; no row when there is nothing
-- left to undo.
-- An object is found by the identity recorded when it was created (objid, objsub: see sql/ownership/objects.sql),
-- never by its name alone, and the statement is built from the catalog's names of that very object (format %%I):
-- an object that is gone, or whose name now belongs to another object, is left alone. Never undone: an object
-- whose identity was in the catalog before phase 1 (tenant_migrate.baseline_objects), a table or function the
-- migration's role does not own (sql/ownership/untrusted.sql refuses such rows before a rollback starts).
-- What goes with something else is left to it: a partition's inherited column, default, constraint or index
-- (the parent's), an index behind a constraint (the constraint's), an identity sequence, column, index or
-- grant of a table this phase created (the table's). Roles stay: they belong to the cluster. A table's created
-- columns go in one ALTER TABLE; its row-level security settings, policies and grants in one transaction, which
-- holds that one table's lock for a moment, never two tables' at once.
WITH mine AS MATERIALIZED (
    SELECT o.id, o.kind, o.table_name, o.name, o.objid, o.objsub,
           -- the relation the object is on (or is)
           CASE WHEN o.kind = 'index' THEN (SELECT x.indrelid FROM pg_index AS x WHERE x.indexrelid = o.objid)
                WHEN o.kind = 'constraint' THEN (SELECT k.conrelid FROM pg_constraint AS k WHERE k.oid = o.objid)
                WHEN o.kind = 'trigger' THEN (SELECT g.tgrelid FROM pg_trigger AS g WHERE g.oid = o.objid)
                WHEN o.kind = 'policy' THEN (SELECT p.polrelid FROM pg_policy AS p WHERE p.oid = o.objid)
                WHEN o.kind IN ('table', 'column', 'default', 'not_null', 'rls')
                     OR (o.kind = 'grant' AND o.table_name <> '') THEN o.objid
           END AS relid
    FROM tenant_migrate.owned_objects AS o
    WHERE o.phase = %(phase)s AND o.ownership = 'created' AND o.released_at IS NULL AND o.objid IS NOT NULL
        AND o.kind NOT IN ('role', 'sequence')
        AND NOT EXISTS (SELECT 1 FROM tenant_migrate.baseline_objects AS b
                        WHERE b.kind = o.kind AND b.objid = o.objid AND b.objsub = o.objsub
                            AND (o.kind <> 'grant' OR b.name = o.name))
        -- what is on a table this phase created goes with the table
        AND NOT (o.table_name <> '' AND EXISTS (
            SELECT 1 FROM tenant_migrate.owned_objects AS t
            WHERE t.kind = 'table' AND t.name = o.table_name AND t.phase = o.phase AND t.ownership = 'created'
                AND t.released_at IS NULL))
),
-- that relation, as the catalog names it now, when it is in public
rel AS MATERIALIZED (
    SELECT m.id, c.oid, c.relkind, c.relowner, format('public.%%I', c.relname) AS target
    FROM mine AS m
    JOIN pg_class AS c ON c.oid = m.relid
    WHERE c.relnamespace = 'public'::regnamespace
),
-- the grantee of a grant and its privilege, as the catalog has them (the privilege must be one the object has)
granted AS MATERIALIZED (
    SELECT m.id, a.privilege_type,
           CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END AS grantee,
           CASE WHEN m.table_name <> '' THEN (SELECT CASE r.relkind WHEN 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END
                                                     || r.target FROM rel AS r WHERE r.id = m.id)
                WHEN m.name LIKE 'schema public to %%' THEN 'SCHEMA public'
                ELSE (SELECT format('FUNCTION public.%%I(%%s)', p.proname, pg_get_function_identity_arguments(p.oid))
                      FROM pg_proc AS p WHERE p.oid = m.objid AND p.pronamespace = 'public'::regnamespace)
           END AS target
    FROM mine AS m
    CROSS JOIN LATERAL aclexplode(CASE
        WHEN m.table_name <> '' THEN (SELECT c.relacl FROM pg_class AS c WHERE c.oid = m.objid)
        WHEN m.name LIKE 'schema public to %%' THEN (SELECT n.nspacl FROM pg_namespace AS n
                                                     WHERE n.oid = m.objid AND n.nspname = 'public')
        ELSE (SELECT p.proacl FROM pg_proc AS p WHERE p.oid = m.objid) END) AS a
    WHERE m.kind = 'grant' AND a.grantee = m.objsub AND a.privilege_type = substring(m.name FROM ':([A-Z ]+)$')
),
todo AS MATERIALIZED (
    SELECT m.*, r.relkind, r.target,
           CASE m.kind
               WHEN 'table' THEN format('DROP %%s IF EXISTS %%s', CASE r.relkind WHEN 'v' THEN 'VIEW'
                                                                              WHEN 'm' THEN 'MATERIALIZED VIEW'
                                                                              ELSE 'TABLE' END, r.target)
               WHEN 'column' THEN format('DROP COLUMN IF EXISTS %%I', a.attname)
               WHEN 'default' THEN format('ALTER TABLE %%s ALTER COLUMN %%I DROP DEFAULT', r.target, a.attname)
               WHEN 'not_null' THEN format('ALTER TABLE %%s ALTER COLUMN %%I DROP NOT NULL', r.target, a.attname)
               WHEN 'constraint' THEN format('ALTER TABLE %%s DROP CONSTRAINT IF EXISTS %%I', r.target, k.conname)
               WHEN 'index' THEN format(CASE WHEN r.relkind = 'p' THEN 'DROP INDEX IF EXISTS public.%%I'
                                             ELSE 'DROP INDEX CONCURRENTLY IF EXISTS public.%%I' END, i.relname)
               WHEN 'trigger' THEN format('DROP TRIGGER IF EXISTS %%I ON %%s', g.tgname, r.target)
               WHEN 'rls' THEN format('ALTER TABLE %%s %%s ROW LEVEL SECURITY', r.target,
                                      CASE m.objsub WHEN 0 THEN 'DISABLE' ELSE 'NO FORCE' END)
               WHEN 'policy' THEN format('DROP POLICY IF EXISTS %%I ON %%s', p.polname, r.target)
               WHEN 'function' THEN format('DROP ROUTINE IF EXISTS public.%%I(%%s)', f.proname,
                                           pg_get_function_identity_arguments(f.oid))
               WHEN 'membership' THEN format('REVOKE %%I FROM %%I', pg_get_userbyid(am.roleid),
                                             pg_get_userbyid(am.member))
               WHEN 'grant' THEN format('REVOKE %%s ON %%s FROM %%s', gr.privilege_type, gr.target, gr.grantee)
           END AS statement,
           -- the kinds undone together, per table, in one transaction
           m.kind IN ('rls', 'policy', 'grant') AND m.table_name <> '' AS per_table
    FROM mine AS m
    LEFT JOIN rel AS r ON r.id = m.id
    LEFT JOIN pg_attribute AS a ON m.kind IN ('column', 'default', 'not_null') AND a.attrelid = m.objid
        AND a.attnum = m.objsub AND NOT a.attisdropped AND a.attinhcount = 0
    LEFT JOIN pg_constraint AS k ON m.kind = 'constraint' AND k.oid = m.objid AND k.conparentid = 0
        AND k.coninhcount = 0
    LEFT JOIN pg_class AS i ON m.kind = 'index' AND i.oid = m.objid AND i.relkind IN ('i', 'I')
        AND NOT EXISTS (SELECT 1 FROM pg_inherits AS h WHERE h.inhrelid = i.oid)
        AND NOT EXISTS (SELECT 1 FROM pg_constraint AS x WHERE x.conindid = i.oid AND x.contype IN ('p', 'u', 'x'))
    LEFT JOIN pg_trigger AS g ON m.kind = 'trigger' AND g.oid = m.objid AND g.tgparentid = 0
    LEFT JOIN pg_policy AS p ON m.kind = 'policy' AND p.oid = m.objid
    LEFT JOIN pg_proc AS f ON m.kind = 'function' AND f.oid = m.objid AND f.pronamespace = 'public'::regnamespace
        AND f.proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
    LEFT JOIN pg_auth_members AS am ON m.kind = 'membership' AND am.roleid = m.objid AND am.member = m.objsub
    LEFT JOIN granted AS gr ON gr.id = m.id
    WHERE CASE m.kind
        WHEN 'table' THEN r.relkind IN ('r', 'p', 'v', 'm', 'f')
                          AND r.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
        WHEN 'column' THEN a.attname IS NOT NULL AND r.target IS NOT NULL
        WHEN 'default' THEN a.atthasdef AND r.target IS NOT NULL
        WHEN 'not_null' THEN a.attnotnull AND r.target IS NOT NULL
        WHEN 'constraint' THEN k.oid IS NOT NULL AND r.target IS NOT NULL
        WHEN 'index' THEN i.oid IS NOT NULL AND r.target IS NOT NULL
        WHEN 'trigger' THEN g.oid IS NOT NULL AND r.target IS NOT NULL
        WHEN 'rls' THEN r.target IS NOT NULL
                        AND (SELECT CASE m.objsub WHEN 0 THEN c.relrowsecurity ELSE c.relforcerowsecurity END
                             FROM pg_class AS c WHERE c.oid = m.objid)
        WHEN 'policy' THEN p.oid IS NOT NULL AND r.target IS NOT NULL
        WHEN 'function' THEN f.oid IS NOT NULL
        -- USAGE: the privileges still reach the member; a CREATEROLE role's own membership of a role it created
        -- (PostgreSQL 16+: ADMIN without INHERIT) stays with the role, as the role does
        WHEN 'membership' THEN am.roleid IS NOT NULL AND pg_has_role(am.member, am.roleid, 'USAGE')
        -- a grant on a table or routine the migration created goes with it; a REVOKE of a privilege already gone
        -- is not needed, and recording releases it
        WHEN 'grant' THEN gr.target IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM tenant_migrate.owned_objects AS t
            WHERE t.ownership = 'created' AND t.released_at IS NULL AND t.phase = %(phase)s
                AND ((t.kind = 'table' AND t.name = m.table_name)
                     OR (t.kind = 'function' AND m.table_name = '' AND t.objid = m.objid)))
        ELSE FALSE
    END
),
next AS (
    SELECT * FROM todo ORDER BY id DESC LIMIT 1
)
SELECT n.id,
       CASE
           WHEN n.kind = 'column' THEN ARRAY[format('ALTER TABLE %%s %%s', n.target, (
               SELECT string_agg(s.statement, ', ' ORDER BY s.id DESC)
               FROM todo AS s WHERE s.kind = 'column' AND s.objid = n.objid))]
           WHEN n.per_table THEN (
               SELECT array_agg(s.statement
                                ORDER BY CASE s.kind WHEN 'rls' THEN 0 WHEN 'policy' THEN 1 ELSE 2 END, s.id DESC)
               FROM todo AS s WHERE s.per_table AND s.target = n.target)
           ELSE ARRAY[n.statement]
       END AS statements,
       format('undoing %%s %%s%%s (created by phase %%s)', CASE WHEN n.per_table THEN 'the row-level security, '
                                                                 'policies and grants on' ELSE n.kind END,
              CASE WHEN n.table_name <> '' THEN n.table_name || CASE WHEN n.per_table THEN '' ELSE '.' END
                   ELSE '' END,
              CASE WHEN n.per_table THEN '' ELSE n.name END, %(phase)s) AS note
FROM next AS n;
