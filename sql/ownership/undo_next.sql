-- ownership / undo_next: the newest object phase %(phase)s created that is still there and can be undone on its
-- own, with the statement that undoes it and a note naming it; no row when there is nothing left to undo.
-- What goes with something else is left to it: a partition's inherited column, default, constraint or index
-- (the parent's), an index behind a constraint (the constraint's), an identity sequence, column, index or
-- grant of a table this phase created (the table's). Roles stay: they belong to the cluster. A table's created
-- columns go in one ALTER TABLE; its row-level security settings, policies and grants in one transaction
-- (statements joined by ';'), which holds that one table's lock for a moment, never two tables' at once.
WITH mine AS (
    SELECT o.id, o.kind, o.table_name, o.name,
           CASE WHEN o.table_name <> '' THEN to_regclass(format('public.%%I', o.table_name)) END AS rel
    FROM tenant_migrate.owned_objects AS o
    WHERE o.phase = %(phase)s AND o.ownership = 'created' AND o.released_at IS NULL
        AND o.kind NOT IN ('role', 'sequence')
        -- what is on a table this phase created goes with the table
        AND NOT (o.table_name <> '' AND EXISTS (
            SELECT 1 FROM tenant_migrate.owned_objects AS t
            WHERE t.kind = 'table' AND t.name = o.table_name AND t.phase = o.phase AND t.ownership = 'created'
                AND t.released_at IS NULL))
),
attr AS (
    SELECT m.id, a.attinhcount, a.attnotnull, a.atthasdef
    FROM mine AS m JOIN pg_attribute AS a ON a.attrelid = m.rel AND a.attname = m.name AND NOT a.attisdropped
    WHERE m.kind IN ('column', 'default', 'not_null')
),
todo AS (
    SELECT m.*,
           CASE m.kind
               WHEN 'table' THEN to_regclass(format('public.%%I', m.name)) IS NOT NULL
               WHEN 'column' THEN EXISTS (SELECT 1 FROM attr WHERE attr.id = m.id AND attr.attinhcount = 0)
               WHEN 'default' THEN EXISTS (SELECT 1 FROM attr WHERE attr.id = m.id AND attr.attinhcount = 0
                                                                    AND attr.atthasdef)
               WHEN 'not_null' THEN EXISTS (SELECT 1 FROM attr WHERE attr.id = m.id AND attr.attinhcount = 0
                                                                     AND attr.attnotnull)
               WHEN 'constraint' THEN EXISTS (SELECT 1 FROM pg_constraint AS k
                                              WHERE k.conrelid = m.rel AND k.conname = m.name
                                                  AND k.conparentid = 0 AND k.coninhcount = 0)
               WHEN 'index' THEN EXISTS (SELECT 1 FROM pg_index AS x
                                         WHERE x.indexrelid = to_regclass(format('public.%%I', m.name))
                                             AND NOT EXISTS (SELECT 1 FROM pg_inherits AS i
                                                             WHERE i.inhrelid = x.indexrelid)
                                             AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k
                                                             WHERE k.conindid = x.indexrelid
                                                                 AND k.contype IN ('p', 'u', 'x')))
               WHEN 'trigger' THEN EXISTS (SELECT 1 FROM pg_trigger AS g
                                           WHERE g.tgrelid = m.rel AND g.tgname = m.name AND g.tgparentid = 0)
               WHEN 'rls' THEN EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = m.rel
                                           AND CASE m.name WHEN 'enabled' THEN c.relrowsecurity
                                                           ELSE c.relforcerowsecurity END)
               WHEN 'policy' THEN EXISTS (SELECT 1 FROM pg_policy AS p WHERE p.polrelid = m.rel
                                                                          AND p.polname = m.name)
               WHEN 'function' THEN to_regprocedure(m.name) IS NOT NULL
               -- USAGE: the privileges still reach the member; a CREATEROLE role's own membership of a role it
               -- created (PostgreSQL 16+: ADMIN without INHERIT) stays with the role, as the role does
               WHEN 'membership' THEN pg_has_role(split_part(m.name, ' in ', 1), split_part(m.name, ' in ', 2),
                                                  'USAGE')
               -- a grant on a table or routine the migration created goes with it; REVOKE of a privilege
               -- already gone is a no-op, and recording releases it
               WHEN 'grant' THEN NOT EXISTS (
                   SELECT 1 FROM tenant_migrate.owned_objects AS t
                   WHERE t.ownership = 'created' AND t.released_at IS NULL AND t.phase = %(phase)s
                       AND ((t.kind = 'table' AND t.name = m.table_name)
                            OR (t.kind = 'function' AND m.table_name = '' AND m.name LIKE t.name || ' to %%')))
               ELSE FALSE
           END AS present,
           regexp_match(m.name, '^(.*) to ([^ ]+):([A-Z ]+)$') AS routine_grant,
           regexp_match(m.name, '^([^ ]+):([A-Z ]+)$') AS table_grant
    FROM mine AS m
),
stmt AS (
    SELECT t.id, t.kind, t.table_name, t.name,
           CASE t.kind
               WHEN 'table' THEN format('DROP TABLE IF EXISTS public.%%I', t.name)
               WHEN 'column' THEN format('ALTER TABLE public.%%I DROP COLUMN IF EXISTS %%I', t.table_name, t.name)
               WHEN 'default' THEN format('ALTER TABLE public.%%I ALTER COLUMN %%I DROP DEFAULT', t.table_name, t.name)
               WHEN 'not_null' THEN format('ALTER TABLE public.%%I ALTER COLUMN %%I DROP NOT NULL', t.table_name, t.name)
               WHEN 'constraint' THEN format('ALTER TABLE public.%%I DROP CONSTRAINT IF EXISTS %%I', t.table_name,
                                             t.name)
               WHEN 'index' THEN format(CASE WHEN (SELECT c.relkind FROM pg_class AS c WHERE c.oid = t.rel) = 'p'
                                             THEN 'DROP INDEX IF EXISTS public.%%I'
                                             ELSE 'DROP INDEX CONCURRENTLY IF EXISTS public.%%I' END, t.name)
               WHEN 'trigger' THEN format('DROP TRIGGER IF EXISTS %%I ON public.%%I', t.name, t.table_name)
               WHEN 'rls' THEN format('ALTER TABLE public.%%I %%s ROW LEVEL SECURITY', t.table_name,
                                      CASE t.name WHEN 'enabled' THEN 'DISABLE' ELSE 'NO FORCE' END)
               WHEN 'policy' THEN format('DROP POLICY IF EXISTS %%I ON public.%%I', t.name, t.table_name)
               WHEN 'function' THEN format('DROP FUNCTION IF EXISTS public.%%s', t.name)
               WHEN 'membership' THEN format('REVOKE %%I FROM %%I', split_part(t.name, ' in ', 2),
                                             split_part(t.name, ' in ', 1))
               WHEN 'grant' THEN CASE
                   WHEN t.table_name <> '' THEN format(
                       'REVOKE %%s ON %%s public.%%I FROM %%s', t.table_grant[2],
                       CASE WHEN (SELECT c.relkind FROM pg_class AS c WHERE c.oid = t.rel) = 'S' THEN 'SEQUENCE'
                            ELSE 'TABLE' END, t.table_name,
                       CASE t.table_grant[1] WHEN 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(t.table_grant[1]) END)
                   WHEN t.routine_grant[1] = 'schema public' THEN format(
                       'REVOKE %%s ON SCHEMA public FROM %%s', t.routine_grant[3],
                       CASE t.routine_grant[2] WHEN 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(t.routine_grant[2]) END)
                   ELSE format(
                       'REVOKE %%s ON FUNCTION public.%%s FROM %%s', t.routine_grant[3], t.routine_grant[1],
                       CASE t.routine_grant[2] WHEN 'PUBLIC' THEN 'PUBLIC' ELSE quote_ident(t.routine_grant[2]) END)
               END
           END AS statement,
           -- the kinds undone together, per table, in one transaction
           t.kind IN ('rls', 'policy', 'grant') AND t.table_name <> '' AS per_table
    FROM todo AS t
    WHERE t.present
),
next AS (
    SELECT * FROM stmt ORDER BY id DESC LIMIT 1
)
SELECT n.id,
       CASE
           WHEN n.kind = 'column' THEN format('ALTER TABLE public.%%I %%s', n.table_name, (
               SELECT string_agg(format('DROP COLUMN IF EXISTS %%I', s.name), ', ' ORDER BY s.id DESC)
               FROM stmt AS s WHERE s.kind = 'column' AND s.table_name = n.table_name))
           WHEN n.per_table THEN (
               SELECT string_agg(s.statement, '; '
                                 ORDER BY CASE s.kind WHEN 'rls' THEN 0 WHEN 'policy' THEN 1 ELSE 2 END, s.id DESC)
               FROM stmt AS s WHERE s.per_table AND s.table_name = n.table_name)
           ELSE n.statement
       END AS statement,
       format('undoing %%s %%s%%s (created by phase %%s)', CASE WHEN n.per_table THEN 'the row-level security, '
                                                                 'policies and grants on' ELSE n.kind END,
              CASE WHEN n.table_name <> '' THEN n.table_name || CASE WHEN n.per_table THEN '' ELSE '.' END
                   ELSE '' END,
              CASE WHEN n.per_table THEN '' ELSE n.name END, %(phase)s) AS note
FROM next AS n;
