-- citus / obstacles: what Citus would refuse, or what would break, if the tenant tables of this database were
-- distributed by their tenant (users by id, every other table with user_id by user_id, colocated), and what phase
-- 9 (09_distribute) does about each: rebuild (it replaces the object: saved first, given back by its rollback),
-- refuse (it cannot go on: the database must change first) or note (it goes on; something to know). One row per
-- obstacle, with the Citus error it avoids; for a rebuild, the name and definition of what replaces it (and, for a
-- global key, the reference table that keeps it global). Reads pg_catalog only: it runs on a plain server too
-- ("what stands between you and Citus"). The ledger makes it the view tenant_migrate.citus_obstacles, which phase
-- 9's steps read.
WITH global_key (table_name, column_name, owner_table, why) AS (
    -- unique keys the app needs global, each looked up before the tenant is known: kept global by a reference
    -- table of their values, each naming the tenant that owns it (values of these columns are not secrets: an
    -- API key is stored hashed)
    VALUES ('users', 'email', 'users_email_owner', 'a login names its user by email'),
           ('chatbots', 'whatsapp_phone_number', 'chatbots_whatsapp_phone_number_owner',
            'an incoming WhatsApp webhook names its chatbot by number'),
           ('orders', 'order_number', 'orders_order_number_owner', 'an order is looked up by its number'),
           ('api_keys', 'api_key_hash', 'api_keys_api_key_hash_owner', 'an API call names its key')
),
tenant AS (
    SELECT c.oid, c.relname::text AS table_name, c.relkind,
           CASE c.relname WHEN 'users' THEN 'id' ELSE 'user_id' END AS tenant_column
    FROM pg_class AS c
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        AND c.relname NOT IN (SELECT owner_table FROM global_key)
        AND (c.relname = 'users' OR EXISTS (SELECT 1 FROM pg_attribute AS a WHERE a.attrelid = c.oid
                                                AND a.attname = 'user_id' AND a.attnum > 0 AND NOT a.attisdropped))
),
tenant_attnum AS (
    SELECT t.*, a.attnum AS tenant_attnum, a.atttypid, a.attnotnull
    FROM tenant AS t JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attname = t.tenant_column
),
-- unique keys, primary keys and exclusion constraints of tenant tables that do not include the tenant column
keys AS (
    SELECT t.table_name, t.tenant_column, k.oid AS conoid, k.conname::text AS object_name, k.contype,
           pg_get_constraintdef(k.oid) AS definition,
           ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u (attnum, ord)
                 JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.ord) AS columns
    FROM tenant_attnum AS t
    JOIN pg_constraint AS k ON k.conrelid = t.oid AND k.contype IN ('p', 'u', 'x')
    WHERE NOT t.tenant_attnum = ANY (k.conkey)
),
-- references between tables, with what Citus makes of them once the tenant tables are distributed
refs AS (
    SELECT k.oid AS conoid, k.conname::text AS object_name, c.relname::text AS table_name,
           r.relname::text AS referenced, pg_get_constraintdef(k.oid) AS definition, k.confdeltype, k.confupdtype,
           src.tenant_attnum AS src_tenant, dst.tenant_attnum AS dst_tenant, k.conkey, k.confkey,
           array_position(k.conkey, src.tenant_attnum) AS src_position,
           array_position(k.confkey, dst.tenant_attnum) AS dst_position,
           ARRAY(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u (attnum, ord)
                 JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.ord) AS columns,
           ARRAY(SELECT a.attname::text FROM unnest(k.confkey) WITH ORDINALITY AS u (attnum, ord)
                 JOIN pg_attribute AS a ON a.attrelid = k.confrelid AND a.attnum = u.attnum ORDER BY u.ord)
               AS referenced_columns,
           k.condeferrable, k.condeferred
    FROM pg_constraint AS k
    JOIN pg_class AS c ON c.oid = k.conrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    JOIN pg_class AS r ON r.oid = k.confrelid
    LEFT JOIN tenant_attnum AS src ON src.oid = k.conrelid
    LEFT JOIN tenant_attnum AS dst ON dst.oid = k.confrelid
    WHERE n.nspname = 'public' AND k.contype = 'f' AND k.conparentid = 0
),
-- tables that are not tenant tables but that tenant tables reference, directly or through each other: they
-- become reference tables (a copy on every node)
reference AS (
    WITH RECURSIVE reached (oid) AS (
        SELECT k.confrelid FROM pg_constraint AS k
        WHERE k.contype = 'f' AND k.conrelid IN (SELECT oid FROM tenant) AND k.confrelid NOT IN (SELECT oid FROM tenant)
        UNION
        SELECT k.confrelid FROM pg_constraint AS k JOIN reached ON k.conrelid = reached.oid
        WHERE k.contype = 'f' AND k.confrelid NOT IN (SELECT oid FROM tenant)
    )
    SELECT c.oid, c.relname::text AS table_name, c.relkind, c.reltuples
    FROM reached JOIN pg_class AS c ON c.oid = reached.oid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'
        AND c.relname NOT IN (SELECT owner_table FROM global_key)  -- made reference tables with their keys
)
-- a primary key without the tenant: (tenant, its columns) replaces it, built CONCURRENTLY
SELECT 'primary_key' AS kind, k.table_name, k.object_name,
       CASE WHEN dependent.name IS NULL THEN 'rebuild' ELSE 'refuse' END AS action,
       k.definition,
       CASE WHEN dependent.name IS NULL
           THEN format('PRIMARY KEY (%s) replaces it (its index built CONCURRENTLY)',
                       array_to_string(k.tenant_column || k.columns, ', '))
           ELSE format('%s references it by (%s) alone: that reference must carry the tenant first', dependent.name,
                       array_to_string(k.columns, ', '))
       END AS detail,
       'Distributed relations cannot have UNIQUE, EXCLUDE, or PRIMARY KEY constraints that do not include the '
       'partition column' AS citus_error,
       left(k.table_name, 51) || '_tenant_pkey' AS replacement,
       format('PRIMARY KEY (%s)', array_to_string(k.tenant_column || k.columns, ', ')) AS replacement_definition,
       NULL AS owner_table, NULL AS key_column
FROM keys AS k
LEFT JOIN LATERAL (
    SELECT string_agg(DISTINCT f.table_name || '.' || f.object_name, ', ') AS name FROM refs AS f
    JOIN pg_constraint AS pk ON pk.oid = k.conoid
    WHERE f.referenced = k.table_name AND f.confkey = pk.conkey
) AS dependent ON true
WHERE k.contype = 'p'
UNION ALL
-- a global key the app needs: kept global by a reference table of its values and their tenants, until the
-- reference to it is in place (the unique key itself is replaced before the tables are distributed)
SELECT 'global_key', g.table_name, k.object_name, 'rebuild', coalesce(k.definition, format('UNIQUE (%I)', g.column_name)),
       format('kept global (%s): the reference table %s holds each %s with the tenant that owns it, %s (%s, %s) '
              'references it%s; the app inserts the %s row before it writes a new %s', g.why, g.owner_table,
              g.column_name, g.table_name, g.column_name, t.tenant_column,
              CASE WHEN t.tenant_column = 'user_id'
                  THEN format(', and UNIQUE (user_id, %s) keeps it once per tenant', g.column_name) ELSE '' END,
              g.owner_table, g.column_name),
       'Distributed relations cannot have UNIQUE, EXCLUDE, or PRIMARY KEY constraints that do not include the '
       'partition column',
       CASE WHEN t.tenant_column = 'user_id' THEN left(g.table_name || '_user_id_' || g.column_name, 59) || '_key' END,
       CASE WHEN t.tenant_column = 'user_id' THEN format('UNIQUE (user_id, %I)', g.column_name) END,
       g.owner_table, g.column_name
FROM global_key AS g
JOIN tenant_attnum AS t ON t.table_name = g.table_name
LEFT JOIN keys AS k ON k.table_name = g.table_name AND k.columns = ARRAY[g.column_name] AND k.contype = 'u'
WHERE k.object_name IS NOT NULL
    OR (to_regclass(format('public.%I', g.owner_table)) IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM refs AS f WHERE f.table_name = g.table_name AND f.referenced = g.owner_table))
UNION ALL
-- another unique key without the tenant
SELECT CASE WHEN per_tenant.name IS NOT NULL THEN 'tenant_key' ELSE 'unique_key' END,
       k.table_name, k.object_name,
       CASE WHEN k.contype = 'u' AND per_tenant.name IS NOT NULL THEN 'rebuild' ELSE 'refuse' END,
       k.definition,
       CASE WHEN k.contype = 'x' THEN 'an exclusion constraint without the tenant: drop it, or add the tenant to it'
            WHEN per_tenant.name IS NOT NULL
                THEN format('UNIQUE (user_id, %s) replaces it: the same rows, since %s names one tenant''s row '
                            '(%s); an ON CONFLICT (%s) of the app becomes ON CONFLICT (user_id, %s)',
                            array_to_string(k.columns, ', '), per_tenant.column_name, per_tenant.name,
                            array_to_string(k.columns, ', '), array_to_string(k.columns, ', '))
            ELSE format('a unique key of the app''s without the tenant, that phase 9 does not know to be global: '
                        'make it per tenant (UNIQUE (%s, %s)) if that is what the app needs', k.tenant_column,
                        array_to_string(k.columns, ', '))
       END,
       'Distributed relations cannot have UNIQUE, EXCLUDE, or PRIMARY KEY constraints that do not include the '
       'partition column',
       left(k.table_name || '_user_id_' || array_to_string(k.columns, '_'), 59) || '_key',
       format('UNIQUE (user_id, %s)', array_to_string(k.columns, ', ')),
       NULL, NULL
FROM keys AS k
LEFT JOIN LATERAL (
    SELECT f.object_name AS name, f.columns[2] AS column_name FROM refs AS f
    WHERE f.table_name = k.table_name AND f.src_position = 1 AND f.dst_position = 1 AND cardinality(f.conkey) = 2
        AND f.columns[2] = ANY (k.columns)
    ORDER BY f.object_name LIMIT 1
) AS per_tenant ON k.tenant_column = 'user_id'
WHERE k.contype IN ('u', 'x')
    AND NOT EXISTS (SELECT 1 FROM global_key AS g WHERE g.table_name = k.table_name AND ARRAY[g.column_name] = k.columns)
UNION ALL
-- a unique index (not a constraint) without the tenant
SELECT 'unique_index', t.table_name, i.relname::text, 'refuse', pg_get_indexdef(x.indexrelid),
       format('a unique index without the tenant: make it per tenant (%s first), or drop it', t.tenant_column),
       'creating unique indexes on non-partition columns is currently unsupported', NULL, NULL, NULL, NULL
FROM tenant_attnum AS t
JOIN pg_index AS x ON x.indrelid = t.oid AND x.indisunique
JOIN pg_class AS i ON i.oid = x.indexrelid
WHERE NOT t.tenant_attnum = ANY (x.indkey::int2[])
    AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = x.indexrelid)
UNION ALL
-- references that carry the tenant but clear or change it on delete or update
SELECT 'tenant_action', f.table_name, f.object_name, 'rebuild', f.definition,
       format('rebuilt with NO ACTION for its %s: the app clears (or deletes) the %s rows that reference a row '
              'before deleting it', concat_ws(' and ',
                  CASE WHEN f.confdeltype IN ('n', 'd') THEN 'ON DELETE' END,
                  CASE WHEN f.confupdtype IN ('n', 'd', 'c') THEN 'ON UPDATE' END), f.table_name),
       CASE WHEN f.confdeltype IN ('n', 'd')
           THEN 'SET NULL or SET DEFAULT is not supported in ON DELETE operation when distribution key is included '
                'in the foreign key constraint'
           ELSE 'SET NULL, SET DEFAULT or CASCADE is not supported in ON UPDATE operation when distribution key '
                'included in the foreign constraint' END,
       left(regexp_replace(f.object_name, '_fkey$', ''), 53) || '_dist_fkey',
       format('FOREIGN KEY (%s) REFERENCES public.%I (%s)%s%s%s', array_to_string(f.columns, ', '), f.referenced,
              array_to_string(f.referenced_columns, ', '),
              CASE f.confupdtype WHEN 'r' THEN ' ON UPDATE RESTRICT' ELSE '' END,
              CASE f.confdeltype WHEN 'c' THEN ' ON DELETE CASCADE' WHEN 'r' THEN ' ON DELETE RESTRICT' ELSE '' END,
              CASE WHEN f.condeferrable THEN ' DEFERRABLE' || CASE WHEN f.condeferred THEN ' INITIALLY DEFERRED'
                                                                    ELSE '' END ELSE '' END),
       NULL, NULL
FROM refs AS f
WHERE f.src_tenant IS NOT NULL AND f.dst_tenant IS NOT NULL AND f.src_position IS NOT NULL
    AND f.src_position = f.dst_position AND (f.confdeltype IN ('n', 'd') OR f.confupdtype IN ('n', 'd', 'c'))
UNION ALL
-- references between tenant tables that do not carry the tenant in the same position on both sides
SELECT CASE WHEN redundant.name IS NOT NULL THEN 'redundant_reference' ELSE 'reference' END,
       f.table_name, f.object_name, CASE WHEN redundant.name IS NOT NULL THEN 'rebuild' ELSE 'refuse' END,
       f.definition,
       CASE WHEN redundant.name IS NOT NULL
           THEN format('dropped: it checks nothing more than %s (%s) and the reference of user_id to users', 
                       redundant.name, redundant.definition)
           ELSE format('its rows and the rows it names may be on different nodes: make it carry the tenant, '
                       '(%s, ...) -> %s (%s, ...)', 'user_id', f.referenced,
                       CASE f.referenced WHEN 'users' THEN 'id' ELSE 'user_id' END)
       END,
       'Foreign keys are supported in two cases, either in between two colocated tables including partition column '
       'in the same ordinal in the both tables or from distributed to reference tables', NULL, NULL, NULL, NULL
FROM refs AS f
LEFT JOIN LATERAL (
    SELECT k.conname::text AS name, pg_get_constraintdef(k.oid) AS definition
    FROM pg_constraint AS k
    JOIN pg_constraint AS fk ON fk.oid = f.conoid
    WHERE k.conrelid = fk.conrelid AND k.contype = 'c' AND k.convalidated AND f.referenced = 'users'
        AND cardinality(f.columns) = 1
        AND pg_get_constraintdef(k.oid) = format('CHECK (((%1$I IS NULL) OR (%1$I = user_id)))', f.columns[1])
    LIMIT 1
) AS redundant ON true
WHERE f.src_tenant IS NOT NULL AND f.dst_tenant IS NOT NULL
    AND (f.src_position IS NULL OR f.src_position IS DISTINCT FROM f.dst_position)
UNION ALL
-- references from tables that stay local (or become reference tables) to tenant tables
SELECT 'reference', f.table_name, f.object_name, 'refuse', f.definition,
       format('%s is not a tenant table: it stays on the coordinator (or is copied to every node), and cannot '
              'reference the distributed %s: give %s a user_id, or drop the reference', f.table_name, f.referenced,
              f.table_name),
       'foreign keys from reference tables and local tables to distributed tables are not supported', NULL, NULL, NULL, NULL
FROM refs AS f
WHERE f.src_tenant IS NULL AND f.dst_tenant IS NOT NULL
UNION ALL
-- tables the tenant tables reference that are not tenant tables: copied to every node
SELECT 'reference_table', r.table_name, r.table_name,
       CASE WHEN r.relkind = 'p' THEN 'refuse' ELSE 'note' END, '',
       CASE WHEN r.relkind = 'p' THEN 'partitioned: Citus cannot make a partitioned table a reference table'
            ELSE format('becomes a reference table (a copy on every node, about %s rows): tenant tables reference it',
                        greatest(r.reltuples, 0)::bigint) END,
       'referenced table must be a distributed table or a reference table', NULL, NULL, NULL, NULL
FROM reference AS r
UNION ALL
-- the app's triggers on the tables phase 9 distributes or copies
SELECT 'trigger', c.relname::text, g.tgname::text, 'refuse', pg_get_triggerdef(g.oid),
       'Citus runs no trigger on a distributed or reference table unless citus.enable_unsafe_triggers is on (its '
       'function then runs on the workers, where what it reads and writes is not coordinated): drop it, or move '
       'its work into the app',
       format('cannot distribute relation "%s" because it has triggers', c.relname), NULL, NULL, NULL, NULL
FROM pg_trigger AS g
JOIN pg_class AS c ON c.oid = g.tgrelid
WHERE NOT g.tgisinternal AND (c.oid IN (SELECT oid FROM tenant) OR c.oid IN (SELECT oid FROM reference))
UNION ALL
-- tenant tables phase 9 cannot distribute as they are
SELECT 'table', t.table_name, t.table_name, 'refuse', '',
       CASE WHEN t.relkind = 'p' THEN 'partitioned: phase 9 does not distribute partitioned tables (their keys would '
                                      'need the partition key too)'
            WHEN t.atttypid <> u.atttypid THEN format('its %s is %s, users.id is %s: colocated tables need one type',
                                                      t.tenant_column, format_type(t.atttypid, NULL),
                                                      format_type(u.atttypid, NULL))
            ELSE format('its %s may be NULL: every row must name its tenant (phase 5 makes it NOT NULL)',
                        t.tenant_column) END,
       CASE WHEN t.relkind = 'p' THEN 'distributing partitioned tables in only supported for hash-distributed tables'
            WHEN t.atttypid <> u.atttypid THEN 'cannot colocate tables: distribution column types don''t match'
            ELSE 'cannot perform an INSERT with NULL in the partition column' END, NULL, NULL, NULL, NULL
FROM tenant_attnum AS t
CROSS JOIN (SELECT atttypid FROM tenant_attnum WHERE table_name = 'users') AS u
WHERE t.relkind = 'p' OR t.atttypid <> u.atttypid OR NOT t.attnotnull
UNION ALL
-- keys narrower than bigint whose values come from a sequence
SELECT 'narrow_key', t.table_name, a.attname::text, 'note', format_type(a.atttypid, a.atttypmod),
       format('its values come from a sequence on the coordinator: the app inserts through the coordinator '
              '(widening it to bigint would rewrite the table under an ACCESS EXCLUSIVE lock)'),
       'nextval(sequence) calls in worker nodes are not supported for column defaults of type int or smallint',
       NULL, NULL, NULL, NULL
FROM tenant AS t
JOIN pg_attribute AS a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.atttypid IN ('int2'::regtype, 'int4'::regtype) AND pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%'
ORDER BY 1, 2, 3;
