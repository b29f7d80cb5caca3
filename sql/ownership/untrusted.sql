-- ownership / untrusted: rows of tenant_migrate.owned_objects that a rollback of phases %(phases)s must not act on,
-- one line each (no row: none). The ledger is written only by the migration, but what a rollback drops is read
-- there, so each 'created' row is held against the catalog before anything is undone: it must carry the identity
-- recorded when the object was created; that identity must not be one of the catalog before phase 1
-- (tenant_migrate.baseline_objects: the app's); a table or function it names must be owned by the migration's role;
-- its kind must be one the migration creates. Such a row was written outside the migration.
WITH claims AS (
    SELECT o.* FROM tenant_migrate.owned_objects AS o
    WHERE o.phase = ANY (%(phases)s) AND o.ownership = 'created' AND o.released_at IS NULL
),
me AS (
    SELECT r.oid FROM pg_roles AS r WHERE r.rolname = current_user
)
SELECT format('row %%s says phase %%s created %%s %%s%%s, %%s', c.id, c.phase, c.kind,
              CASE WHEN c.table_name <> '' THEN c.table_name || '.' ELSE '' END, c.name, why) AS problem
FROM claims AS c
CROSS JOIN LATERAL (
    SELECT 'but carries no identity (oid) of what it created' AS why WHERE c.objid IS NULL
    UNION ALL
    SELECT 'which is not a kind of object the migration creates'
    WHERE c.kind NOT IN ('table', 'sequence', 'column', 'default', 'not_null', 'constraint', 'index', 'trigger',
                         'rls', 'policy', 'function', 'grant', 'role', 'membership')
    UNION ALL
    SELECT format('which was in the catalog before phase 1 (%%s %%s%%s): the app''s', b.kind,
                  CASE WHEN b.table_name <> '' THEN b.table_name || '.' ELSE '' END, b.name)
    FROM tenant_migrate.baseline_objects AS b
    WHERE b.kind = c.kind AND ((b.objid = c.objid AND b.objsub = c.objsub AND (c.kind <> 'grant' OR b.name = c.name))
                               OR (b.objid IS NULL AND (b.table_name, b.name) = (c.table_name, c.name)))
    UNION ALL
    SELECT format('which is owned by %%s, not by the migration''s role %%s', pg_get_userbyid(x.relowner), current_user)
    FROM pg_class AS x WHERE c.kind = 'table' AND x.oid = c.objid AND x.relowner <> (SELECT me.oid FROM me)
    UNION ALL
    SELECT format('which is owned by %%s, not by the migration''s role %%s', pg_get_userbyid(x.proowner), current_user)
    FROM pg_proc AS x WHERE c.kind = 'function' AND x.oid = c.objid AND x.proowner <> (SELECT me.oid FROM me)
) AS w
ORDER BY c.id;
