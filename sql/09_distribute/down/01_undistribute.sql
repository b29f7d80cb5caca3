-- 09_distribute / down / 01_undistribute
-- Requires: 09_distribute (applied or partly applied)
-- mode: transaction
-- rebuilds: tables
-- Every Citus table of the public schema back to a local table on the coordinator, with the rows the workers
-- hold, in one transaction: Citus's undistribute_table (with the tables its references connect) builds each table
-- anew on the coordinator, copies the rows from the shards, drops the shards and gives the new table the name,
-- columns, defaults, constraints, indexes, policies, grants and row-level security of the old one. Writes to these
-- tables wait until the commit (reads too at the end, while each table is swapped). Citus refuses a table with an
-- identity column ("cannot complete operation on a table with identity column"): each identity is taken off the
-- coordinator's table first (its sequence, with its options, position and grants, kept in a temporary table),
-- and put back, under the same sequence name, on the local table: the catalog ends as it was.
-- Every object of these tables gets a new identity (oid): the header `rebuilds: tables` has the runner check that
-- the catalog is, by key and definition, exactly what it was before this transaction (nothing dropped, added or
-- defined otherwise), and then take the ledger's identities again by key in the same transaction
-- (sql/ownership/rebind.sql: what phases 1-9 created and adopted, the catalog before phase 1, the tables of the saved
-- definitions), so that the steps after it, and the rollbacks of phases 1-8, act on the rebuilt objects.

DO $undistribute$
DECLARE
    t record;
    position bigint;
    called boolean;
BEGIN
    CREATE TEMPORARY TABLE identity_column ON COMMIT DROP AS
    SELECT c.relname::text AS table_name, a.attname::text AS column_name, a.attidentity,
           s.seqrelid::regclass::text AS sequence_name, s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
           s.seqcycle, NULL::bigint AS last_value, NULL::boolean AS is_called
    FROM pg_dist_partition AS p
    JOIN pg_class AS c ON c.oid = p.logicalrelid
    JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attidentity <> '' AND NOT a.attisdropped
    JOIN pg_depend AS d ON d.refobjid = c.oid AND d.refobjsubid = a.attnum AND d.classid = 'pg_class'::regclass
        AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i'
    JOIN pg_sequence AS s ON s.seqrelid = d.objid
    WHERE c.relnamespace = 'public'::regnamespace;
    CREATE TEMPORARY TABLE identity_grant ON COMMIT DROP AS
    SELECT i.sequence_name, CASE e.grantee WHEN 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(e.grantee)) END
               AS grantee, e.privilege_type, e.is_grantable
    FROM identity_column AS i
    JOIN pg_class AS q ON q.oid = i.sequence_name::regclass
    CROSS JOIN LATERAL aclexplode(q.relacl) AS e
    WHERE e.grantee <> q.relowner;

    FOR t IN SELECT * FROM identity_column LOOP
        EXECUTE format('SELECT last_value, is_called FROM %s', t.sequence_name) INTO position, called;
        UPDATE identity_column SET last_value = position, is_called = called WHERE sequence_name = t.sequence_name;
        -- Citus does not take DROP IDENTITY to the shards: it is done on the coordinator only, whose table is rebuilt
        SET LOCAL citus.enable_ddl_propagation TO off;
        EXECUTE format('ALTER TABLE public.%I ALTER COLUMN %I DROP IDENTITY', t.table_name, t.column_name);
        SET LOCAL citus.enable_ddl_propagation TO on;
    END LOOP;

    LOOP
        SELECT c.relname::text AS table_name INTO t
        FROM pg_dist_partition AS p JOIN pg_class AS c ON c.oid = p.logicalrelid
        WHERE c.relnamespace = 'public'::regnamespace ORDER BY p.partmethod <> 'h', c.relname LIMIT 1;
        EXIT WHEN NOT FOUND;
        PERFORM undistribute_table(format('public.%I', t.table_name), cascade_via_foreign_keys => true);
    END LOOP;

    FOR t IN SELECT * FROM identity_column LOOP
        EXECUTE format('ALTER TABLE public.%I ALTER COLUMN %I ADD GENERATED %s AS IDENTITY (SEQUENCE NAME %s START WITH '
                       '%s INCREMENT BY %s MINVALUE %s MAXVALUE %s CACHE %s %s)', t.table_name, t.column_name,
                       CASE t.attidentity WHEN 'a' THEN 'ALWAYS' ELSE 'BY DEFAULT' END, t.sequence_name, t.seqstart,
                       t.seqincrement, t.seqmin, t.seqmax, t.seqcache,
                       CASE WHEN t.seqcycle THEN 'CYCLE' ELSE 'NO CYCLE' END);
        PERFORM setval(t.sequence_name, t.last_value, t.is_called);
    END LOOP;
    FOR t IN SELECT * FROM identity_grant LOOP
        EXECUTE format('GRANT %s ON SEQUENCE %s TO %s%s', t.privilege_type, t.sequence_name, t.grantee,
                       CASE WHEN t.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
    END LOOP;
END
$undistribute$;
