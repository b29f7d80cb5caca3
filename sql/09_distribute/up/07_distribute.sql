-- 09_distribute / up / 07_distribute
-- Requires: 09_distribute / up / 06_validate_references; every key now carries the tenant
-- mode: transaction
-- One transaction, so that no local table ever checks a reference against a table already distributed (whose
-- rows then live on the workers): every table it moves is locked first in EXCLUSIVE mode (reads go on, writes wait
-- until the commit); the tables the tenant tables reference (not tenant tables themselves) and the owner tables of
-- the global keys become reference tables (a copy on every node); users is distributed by id and every other
-- tenant table by user_id, colocated with users, each after the tables it references (create_distributed_table
-- copies its rows to the workers: the time writes wait is the time of these copies); then each owner table gets
-- the values of its key and the key's table a reference to it. Row-level security, its policies and the grants go
-- with each table to every shard. The shells on the coordinator keep their rows until step 08 truncates them.
-- Sequential mode: one connection per worker, so that each statement sees what the earlier ones did.

DO $distribute$
DECLARE
    t record;
BEGIN
    SET LOCAL citus.multi_shard_modify_mode TO 'sequential';
    CREATE TEMPORARY TABLE distribution ON COMMIT DROP AS
    WITH RECURSIVE owner AS (
        SELECT o.owner_table AS table_name FROM tenant_migrate.citus_obstacles AS o WHERE o.kind = 'global_key'
    ),
    moved (table_name, method) AS (
        SELECT table_name, CASE table_name WHEN 'users' THEN 'id' ELSE 'user_id' END
        FROM tenant_migrate.tenant_tables WHERE table_name NOT IN (SELECT table_name FROM owner)
        UNION ALL
        SELECT table_name, 'reference' FROM owner
        UNION ALL
        SELECT o.table_name, 'reference' FROM tenant_migrate.citus_obstacles AS o WHERE o.kind = 'reference_table'
    ),
    edge AS (
        SELECT c.relname::text AS child, r.relname::text AS parent
        FROM pg_constraint AS k
        JOIN pg_class AS c ON c.oid = k.conrelid
        JOIN pg_class AS r ON r.oid = k.confrelid
        WHERE k.contype = 'f' AND k.conrelid <> k.confrelid AND c.relnamespace = 'public'::regnamespace
            AND c.relname IN (SELECT table_name FROM moved) AND r.relname IN (SELECT table_name FROM moved)
    ),
    depth (table_name, depth) AS (
        SELECT table_name, 0 FROM moved
        UNION ALL
        SELECT edge.child, depth.depth + 1 FROM edge JOIN depth ON edge.parent = depth.table_name
        WHERE depth.depth < 100
    )
    SELECT m.table_name, m.method, (SELECT max(d.depth) FROM depth AS d WHERE d.table_name = m.table_name) AS depth
    FROM moved AS m;
    CREATE TEMPORARY TABLE global_key ON COMMIT DROP AS
    SELECT o.table_name, o.key_column, o.owner_table,
           CASE o.table_name WHEN 'users' THEN 'id' ELSE 'user_id' END AS tenant_column
    FROM tenant_migrate.citus_obstacles AS o WHERE o.kind = 'global_key';

    FOR t IN SELECT table_name FROM distribution ORDER BY depth, table_name LOOP
        EXECUTE format('LOCK TABLE public.%I IN EXCLUSIVE MODE', t.table_name);
    END LOOP;
    FOR t IN SELECT d.table_name, d.method FROM distribution AS d
             WHERE NOT EXISTS (SELECT 1 FROM pg_dist_partition AS p
                               WHERE p.logicalrelid = format('public.%I', d.table_name)::regclass)
             ORDER BY d.method <> 'reference', d.depth, d.table_name LOOP
        IF t.method = 'reference' THEN
            PERFORM create_reference_table(format('public.%I', t.table_name));
        ELSE
            PERFORM create_distributed_table(format('public.%I', t.table_name), t.method,
                                             colocate_with => CASE t.table_name WHEN 'users' THEN 'default'
                                                                                ELSE 'public.users' END);
        END IF;
    END LOOP;
    FOR t IN SELECT * FROM global_key ORDER BY table_name LOOP
        EXECUTE format('INSERT INTO public.%1$I (%2$I, user_id) SELECT %2$I, %3$I FROM public.%4$I '
                       'WHERE %2$I IS NOT NULL ON CONFLICT DO NOTHING', t.owner_table, t.key_column, t.tenant_column,
                       t.table_name);
        EXECUTE format('ALTER TABLE public.%I ADD CONSTRAINT %I FOREIGN KEY (%I, %I) REFERENCES public.%I (%I, user_id)',
                       t.table_name, left(t.owner_table, 58) || '_fkey', t.key_column, t.tenant_column,
                       t.owner_table, t.key_column);
    END LOOP;
END
$distribute$;
