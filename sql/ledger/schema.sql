-- ledger / schema: the migration's own bookkeeping, in its own schema of the target database.
-- Idempotent: the runner runs it at the start of every command that writes, with search_path = pg_catalog, after
-- it created the schema or found it trustworthy (tenant_migrate/ledger.py, sql/ledger/trust.sql); then
-- sql/ledger/lockdown.sql takes every privilege on it from everyone but its owner.

-- One row per attempt to apply (up) or roll back (down) a phase.
CREATE TABLE IF NOT EXISTS tenant_migrate.phase_runs (
    id bigserial PRIMARY KEY,
    phase integer NOT NULL,
    name text NOT NULL,
    direction text NOT NULL CHECK (direction IN ('up', 'down')),
    checksum text NOT NULL,
    files jsonb NOT NULL DEFAULT '{}',
    status text NOT NULL CHECK (status IN ('running', 'applied', 'rolled_back', 'failed', 'interrupted')),
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    duration_s numeric,
    runner text NOT NULL DEFAULT '',
    backend_pid integer NOT NULL DEFAULT pg_backend_pid(),
    notes jsonb NOT NULL DEFAULT '[]',
    error text,
    backup_path text,
    backup_sha256 text,
    validation jsonb,
    decision text CHECK (decision IN ('approved', 'rejected', 'timed_out', 'auto')),
    approved_by text,
    approval_comment text,
    decided_at timestamptz,
    flow_run_id text,
    resumed_from bigint
);
CREATE INDEX IF NOT EXISTS phase_runs_phase_idx ON tenant_migrate.phase_runs (phase, id);

-- Progress of each step of a run, so that an interrupted phase resumes at the step it was in.
CREATE TABLE IF NOT EXISTS tenant_migrate.step_progress (
    run_id bigint NOT NULL REFERENCES tenant_migrate.phase_runs (id),
    step text NOT NULL,
    status text NOT NULL CHECK (status IN ('running', 'done')),
    position bigint,
    target bigint,
    updated_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, step)
);

-- Row counts taken just before a phase is applied (validation compares against them).
CREATE TABLE IF NOT EXISTS tenant_migrate.row_counts (
    run_id bigint NOT NULL REFERENCES tenant_migrate.phase_runs (id),
    table_name text NOT NULL,
    row_count bigint NOT NULL,
    max_id bigint,
    taken_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (run_id, table_name)
);

-- A table, or the leaf partitions of a partitioned one: where a foreign key is added NOT VALID and validated
-- before its partitioned parent adopts them (PostgreSQL 15 cannot add a NOT VALID foreign key to the parent).
CREATE OR REPLACE FUNCTION tenant_migrate.leaf_tables(relation regclass) RETURNS SETOF regclass
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT p.relid FROM pg_catalog.pg_partition_tree(relation) AS p WHERE p.isleaf
    UNION ALL
    SELECT relation WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_partition_tree(relation))
$fn$;

-- Definitions of the app's objects a phase dropped, so that its rollback gives them back exactly. Written only by
-- tenant_migrate.save_constraint / save_index below, read back only through tenant_migrate.saved_verified (the
-- saved-object API: sql/README.md). table_oid: the table's identity when saved; contype: the constraint's type;
-- index_definition: the index behind a primary key or unique constraint; digest: sha256 of all of it, taken when
-- the object was saved (tenant_migrate.saved_digest).
CREATE TABLE IF NOT EXISTS tenant_migrate.saved_objects (
    phase integer NOT NULL,
    table_name text NOT NULL,
    object_name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('constraint', 'index')),
    definition text NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    table_oid oid,
    contype "char",
    index_definition text,
    condeferrable boolean,
    condeferred boolean,
    digest text,
    PRIMARY KEY (phase, table_name, object_name)
);
ALTER TABLE tenant_migrate.saved_objects
    ADD COLUMN IF NOT EXISTS table_oid oid,
    ADD COLUMN IF NOT EXISTS contype "char",
    ADD COLUMN IF NOT EXISTS index_definition text,
    ADD COLUMN IF NOT EXISTS condeferrable boolean,
    ADD COLUMN IF NOT EXISTS condeferred boolean,
    ADD COLUMN IF NOT EXISTS digest text;
DO $pkey$
BEGIN  -- a ledger of an older version keyed its saved objects by name alone (two tables may name a constraint alike)
    IF (SELECT cardinality(k.conkey) FROM pg_constraint AS k
        WHERE k.conrelid = 'tenant_migrate.saved_objects'::regclass AND k.contype = 'p') = 2 THEN
        ALTER TABLE tenant_migrate.saved_objects DROP CONSTRAINT saved_objects_pkey,
            ADD PRIMARY KEY (phase, table_name, object_name);
    END IF;
END
$pkey$;

CREATE OR REPLACE FUNCTION tenant_migrate.saved_digest(
    phase integer, table_oid oid, table_name text, object_name text, kind text, contype "char", definition text,
    index_definition text, condeferrable boolean, condeferred boolean
) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.json_build_array(
        phase, table_oid, table_name, object_name, kind, contype, definition, index_definition, condeferrable,
        condeferred
    )::text, 'UTF8')), 'hex')
$fn$;

-- Save a constraint of a public table (by its oid) before a phase drops it; idempotent. A primary key or unique
-- constraint keeps its index's definition too: the rollback builds that index CONCURRENTLY, then attaches it.
CREATE OR REPLACE FUNCTION tenant_migrate.save_constraint(phase integer, constraint_oid oid) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$
    INSERT INTO tenant_migrate.saved_objects (phase, table_name, object_name, kind, definition, table_oid, contype,
                                              index_definition, condeferrable, condeferred, digest)
    SELECT v.phase, v.table_name, v.object_name, 'constraint', v.definition, v.table_oid, v.contype,
           v.index_definition, v.condeferrable, v.condeferred,
           tenant_migrate.saved_digest(v.phase, v.table_oid, v.table_name, v.object_name, 'constraint', v.contype,
                                       v.definition, v.index_definition, v.condeferrable, v.condeferred)
    FROM (SELECT save_constraint.phase, c.relname::text AS table_name, k.conname::text AS object_name,
                 pg_catalog.pg_get_constraintdef(k.oid) AS definition, c.oid AS table_oid, k.contype,
                 CASE WHEN k.contype IN ('p', 'u') THEN pg_catalog.pg_get_indexdef(k.conindid) END AS index_definition,
                 k.condeferrable, k.condeferred
          FROM pg_catalog.pg_constraint AS k
          JOIN pg_catalog.pg_class AS c ON c.oid = k.conrelid
          WHERE k.oid = constraint_oid AND c.relnamespace = 'public'::regnamespace) AS v
    ON CONFLICT DO NOTHING
$fn$;

-- Save an index of a public table (by its oid) that no constraint owns (those go with save_constraint) before a
-- phase drops it; idempotent.
CREATE OR REPLACE FUNCTION tenant_migrate.save_index(phase integer, index_oid oid) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $fn$
    INSERT INTO tenant_migrate.saved_objects (phase, table_name, object_name, kind, definition, table_oid, digest)
    SELECT v.phase, v.table_name, v.object_name, 'index', v.definition, v.table_oid,
           tenant_migrate.saved_digest(v.phase, v.table_oid, v.table_name, v.object_name, 'index', NULL,
                                       v.definition, NULL, NULL, NULL)
    FROM (SELECT save_index.phase, t.relname::text AS table_name, i.relname::text AS object_name,
                 pg_catalog.pg_get_indexdef(x.indexrelid) AS definition, t.oid AS table_oid
          FROM pg_catalog.pg_index AS x
          JOIN pg_catalog.pg_class AS i ON i.oid = x.indexrelid
          JOIN pg_catalog.pg_class AS t ON t.oid = x.indrelid
          WHERE x.indexrelid = index_oid AND t.relnamespace = 'public'::regnamespace
              AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS k WHERE k.conindid = x.indexrelid
                                                                            AND k.contype IN ('p', 'u', 'x'))) AS v
    ON CONFLICT DO NOTHING
$fn$;

-- The saved objects of a phase, each checked before a rollback uses it: its digest is the one taken when it was
-- saved, its table is still the table it was saved from (same oid, same name, in public), and its definitions
-- have the shape of what was saved (a constraint's type, an index of that name on that table). Anything else
-- raises, naming the object: a rollback gives back only what the phase took.
CREATE OR REPLACE FUNCTION tenant_migrate.saved_verified(wanted integer)
RETURNS SETOF tenant_migrate.saved_objects
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    s tenant_migrate.saved_objects;
    index_prefix text;
BEGIN
    FOR s IN SELECT * FROM tenant_migrate.saved_objects AS o WHERE o.phase = wanted
             ORDER BY o.table_name, o.object_name LOOP
        IF s.digest IS DISTINCT FROM tenant_migrate.saved_digest(s.phase, s.table_oid, s.table_name, s.object_name,
                s.kind, s.contype, s.definition, s.index_definition, s.condeferrable, s.condeferred) THEN
            RAISE EXCEPTION 'ledger: the saved definition of %.% (phase %) is not what the phase saved (its digest '
                'does not match): it was changed in tenant_migrate.saved_objects afterwards, so the rollback will '
                'not run it; put the row back as it was saved, or recreate % by hand and delete the row',
                s.table_name, s.object_name, s.phase, s.object_name;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_class AS c WHERE c.oid = s.table_oid AND c.relname = s.table_name
                                                   AND c.relnamespace = 'public'::regnamespace) THEN
            RAISE EXCEPTION 'ledger: %.% (phase %) was saved from table % (oid %), which is no longer there under '
                'that name: the rollback will not give it to another table; recreate it by hand and delete its row '
                'in tenant_migrate.saved_objects', s.table_name, s.object_name, s.phase, s.table_name, s.table_oid;
        END IF;
        index_prefix := format('INDEX %s ON public.%s USING ', quote_ident(s.object_name), quote_ident(s.table_name));
        IF NOT (CASE
                WHEN s.kind = 'index' THEN s.contype IS NULL AND (starts_with(s.definition, 'CREATE ' || index_prefix)
                                                               OR starts_with(s.definition, 'CREATE UNIQUE ' || index_prefix))
                WHEN s.contype IN ('p', 'u') THEN starts_with(s.index_definition, 'CREATE UNIQUE ' || index_prefix)
                    AND starts_with(s.definition, CASE s.contype WHEN 'p' THEN 'PRIMARY KEY (' ELSE 'UNIQUE ' END)
                WHEN s.contype = 'f' THEN starts_with(s.definition, 'FOREIGN KEY (')
                WHEN s.contype = 'c' THEN starts_with(s.definition, 'CHECK (')
                WHEN s.contype = 'x' THEN starts_with(s.definition, 'EXCLUDE ')
                ELSE FALSE
            END) THEN
            RAISE EXCEPTION 'ledger: the saved definition of %.% (phase %) does not have the shape of a saved % : '
                'the rollback will not run it', s.table_name, s.object_name, s.phase, s.kind;
        END IF;
        RETURN NEXT s;
    END LOOP;
END
$fn$;

-- The statements that give back the saved objects of a phase (checked by saved_verified), for a step of mode
-- generated: (statement, note), in order, only for what is missing, without blocking the app's writes.
-- keys: a saved index is built CONCURRENTLY from its definition; a primary key or unique constraint gets its index
--   built CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX (catalog-only, a brief ACCESS EXCLUSIVE); an exclusion
--   constraint is added as it was (it scans under its lock).
-- references: a foreign key or check constraint is added NOT VALID (per leaf partition first on a partitioned
--   table), then validated (SHARE UPDATE EXCLUSIVE), then added to the partitioned parent, which adopts them.
-- Names and tables come from the catalog (format %I, regclass); a definition is used only as saved_verified passed it.
CREATE OR REPLACE FUNCTION tenant_migrate.restore_statements(wanted integer, what text)
RETURNS TABLE (statement text, note text)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    WITH saved AS (
        SELECT s.*, s.table_oid::regclass AS parent, format('%I.%I', 'public', s.table_name) AS tbl
        FROM tenant_migrate.saved_verified(wanted) AS s
    ),
    keys AS (
        SELECT saved.*,
               EXISTS (SELECT 1 FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
                       WHERE x.indrelid = saved.table_oid AND i.relname = saved.object_name AND x.indisvalid)
                   AS has_index,
               EXISTS (SELECT 1 FROM pg_constraint AS k
                       WHERE k.conrelid = saved.table_oid AND k.conname = saved.object_name) AS has_constraint
        FROM saved WHERE saved.kind = 'index' OR saved.contype IN ('p', 'u', 'x')
    ),
    key_statements AS (
        SELECT object_name, 1 AS ord,
               regexp_replace(CASE WHEN kind = 'index' THEN definition ELSE index_definition END,
                              '^CREATE (UNIQUE )?INDEX ', 'CREATE \1INDEX CONCURRENTLY IF NOT EXISTS ') AS statement,
               format('restoring %s %s.%s: %s', CASE WHEN kind = 'index' THEN 'index' ELSE 'constraint' END,
                      table_name, object_name, definition) AS note
        FROM keys WHERE NOT has_index AND (kind = 'index' OR (contype IN ('p', 'u') AND NOT has_constraint))
        UNION ALL
        SELECT object_name, 2,
               format('ALTER TABLE %s ADD CONSTRAINT %I %s USING INDEX %I%s', tbl, object_name,
                      CASE contype WHEN 'p' THEN 'PRIMARY KEY' ELSE 'UNIQUE' END, object_name,
                      CASE WHEN condeferrable THEN ' DEFERRABLE' || CASE WHEN condeferred THEN ' INITIALLY DEFERRED'
                                                                     ELSE '' END ELSE '' END),
               CASE WHEN has_index THEN format('restoring constraint %s.%s: %s', table_name, object_name,
                                               definition) END
        FROM keys WHERE contype IN ('p', 'u') AND NOT has_constraint
        UNION ALL
        SELECT object_name, 1, format('ALTER TABLE %s ADD CONSTRAINT %I %s', tbl, object_name, definition),
               format('restoring constraint %s.%s: %s', table_name, object_name, definition)
        FROM keys WHERE contype = 'x' AND NOT has_constraint
    ),
    leaves AS (
        SELECT saved.*, leaf, k.convalidated
        FROM saved
        CROSS JOIN LATERAL tenant_migrate.leaf_tables(saved.parent) AS leaf
        LEFT JOIN pg_constraint AS k ON k.conrelid = leaf AND k.conname = saved.object_name
        WHERE saved.contype IN ('f', 'c')
    ),
    reference_statements AS (
        SELECT object_name, 1 AS ord, leaf::text AS part,
               format('ALTER TABLE %s ADD CONSTRAINT %I %s NOT VALID', leaf, object_name, definition) AS statement,
               format('restoring %s.%s: %s', table_name, object_name, definition) AS note
        FROM leaves WHERE convalidated IS NULL
        UNION ALL
        SELECT object_name, 2, leaf::text, format('ALTER TABLE %s VALIDATE CONSTRAINT %I', leaf, object_name), NULL
        FROM leaves WHERE convalidated IS NOT TRUE
        UNION ALL
        SELECT object_name, 3, '', format('ALTER TABLE %s ADD CONSTRAINT %I %s', parent, object_name, definition),
               NULL
        FROM saved
        WHERE saved.contype IN ('f', 'c')
            AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conrelid = saved.table_oid
                                                               AND k.conname = saved.object_name)
            AND (SELECT c.relkind FROM pg_class AS c WHERE c.oid = saved.table_oid) = 'p'
    )
    SELECT r.statement, r.note FROM (
        SELECT k.statement, k.note, k.object_name, k.ord, '' AS part FROM key_statements AS k WHERE what = 'keys'
        UNION ALL
        SELECT r.statement, r.note, r.object_name, r.ord, r.part FROM reference_statements AS r
        WHERE what = 'references'
    ) AS r
    ORDER BY r.object_name, r.ord, r.part
$fn$;

-- The tenants and keys of contacts' rows that would break the per-tenant unique key `key_name` of phase 5, as
-- tenant_migrate.tenant_uniques shapes it (the app's key expressions, its predicate, NULLS NOT DISTINCT): what the
-- suites check once every row has its tenant. Nothing while that key is in place (valid, it holds already), nor while
-- the app's own unique key it is shaped from is (valid, unique: no two rows share those key values at all, so no two
-- of one tenant do), which spares phase 4's suite a scan of contacts per key. The key expressions and predicate are
-- the app's own, as PostgreSQL prints them from the catalog.
CREATE OR REPLACE FUNCTION tenant_migrate.per_tenant_duplicates(key_name text)
RETURNS TABLE (user_id text, key_values text, n bigint)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
DECLARE
    u record;
BEGIN
    IF EXISTS (SELECT 1 FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
               WHERE x.indrelid = to_regclass('public.contacts') AND i.relname = per_tenant_duplicates.key_name
                   AND x.indisunique AND x.indisvalid) THEN
        RETURN;
    END IF;
    FOR u IN SELECT * FROM tenant_migrate.tenant_uniques AS t
             WHERE t.key_name = per_tenant_duplicates.key_name AND t.why IS NULL
                 AND NOT EXISTS (SELECT 1 FROM pg_index AS x
                                 WHERE x.indexrelid = t.index_oid AND x.indisunique AND x.indisvalid) LOOP
        RETURN QUERY EXECUTE format(
            'SELECT t.user_id::text, ROW(%s)::text, count(*) FROM public.contacts AS t WHERE t.user_id IS NOT NULL '
            'AND %s AND %s GROUP BY t.user_id, %s HAVING count(*) > 1',
            array_to_string(u.key_expressions, ', '), coalesce(u.predicate, 'true'),
            CASE WHEN u.nulls_not_distinct THEN 'true'
                 ELSE '(' || array_to_string(u.key_expressions, ') IS NOT NULL AND (') || ') IS NOT NULL' END,
            array_to_string(u.key_expressions, ', '));
    END LOOP;
END
$fn$;

-- The catalog keys (kind, table, name, as in sql/ownership/objects.sql) of the app objects a phase dropped after
-- saving them: a unique constraint is also its index; a constraint of a partitioned table also its partitions'.
CREATE OR REPLACE VIEW tenant_migrate.saved_keys AS
SELECT s.kind, s.table_name, s.object_name AS name FROM tenant_migrate.saved_objects AS s
UNION
SELECT 'index', s.table_name, s.object_name FROM tenant_migrate.saved_objects AS s
UNION
SELECT s.kind, c.relname::text, s.object_name
FROM tenant_migrate.saved_objects AS s
CROSS JOIN LATERAL pg_partition_tree(to_regclass(format('public.%I', s.table_name))) AS p
JOIN pg_class AS c ON c.oid = p.relid;

-- The tenant tables: what phase 8's row-level security protects and the phase-8 checklist checks.
-- Every public table with a user_id column, plus users (its id is the tenant). tenant_rows is the condition
-- "this row belongs to the tenant %s", for format().
CREATE OR REPLACE VIEW tenant_migrate.tenant_tables AS
SELECT c.relname::text AS table_name,
       CASE c.relname WHEN 'users' THEN 'id = %s' ELSE 'user_id = %s' END AS tenant_rows
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND (c.relname = 'users'
         OR EXISTS (SELECT 1 FROM pg_attribute AS a
                    WHERE a.attrelid = c.oid AND a.attname = 'user_id' AND a.attnum > 0 AND NOT a.attisdropped));

-- The tenant ids phases 2-5 add to the legacy tables, in order, and the foreign key each gets in phase 4:
-- user_id -> users (id), and chatbot_id -> chatbots by (user_id, id), so that a row's chatbot is its
-- tenant's. campaign_subscribers gets user_id only (its chatbot is its campaign's).
CREATE OR REPLACE VIEW tenant_migrate.tenant_id_columns (ord, table_name, column_name, referenced, fk_columns,
                                                         referenced_columns) AS
VALUES (1, 'contacts', 'user_id', 'users', ARRAY['user_id'], ARRAY['id']),
       (2, 'contacts', 'chatbot_id', 'chatbots', ARRAY['user_id', 'chatbot_id'], ARRAY['user_id', 'id']),
       (3, 'messages', 'user_id', 'users', ARRAY['user_id'], ARRAY['id']),
       (4, 'messages', 'chatbot_id', 'chatbots', ARRAY['user_id', 'chatbot_id'], ARRAY['user_id', 'id']),
       (5, 'orders', 'user_id', 'users', ARRAY['user_id'], ARRAY['id']),
       (6, 'orders', 'chatbot_id', 'chatbots', ARRAY['user_id', 'chatbot_id'], ARRAY['user_id', 'id']),
       (7, 'campaigns', 'user_id', 'users', ARRAY['user_id'], ARRAY['id']),
       (8, 'campaigns', 'chatbot_id', 'chatbots', ARRAY['user_id', 'chatbot_id'], ARRAY['user_id', 'id']),
       (9, 'campaign_subscribers', 'user_id', 'users', ARRAY['user_id'], ARRAY['id']);

-- Whether no row of the table can be without a tenant id: phase 4's check over its tenant ids
-- (<table>_tenant_not_null_check, sql/04_backfill_tenant_ids/up/14_add_not_null_checks.sql) is validated, or each
-- of them is NOT NULL already.
-- Phase 4 skips a table's sweep when it is (its `skip if` header): the validation's scan has proved it.
CREATE OR REPLACE FUNCTION tenant_migrate.tenant_ids_proven(relname text) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $fn$
    SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint AS k
                   WHERE k.conrelid = pg_catalog.format('public.%I', relname)::regclass AND k.contype = 'c'
                       AND k.conname = relname || '_tenant_not_null_check' AND k.convalidated)
        OR NOT EXISTS (SELECT 1 FROM tenant_migrate.tenant_id_columns AS t
                       JOIN pg_catalog.pg_attribute AS a
                           ON a.attrelid = pg_catalog.format('public.%I', relname)::regclass
                           AND a.attname = t.column_name
                       WHERE t.table_name = relname AND NOT a.attnotnull)
$fn$;

-- Every go/no-go decision at a gate: the migrate flow's after each phase it applied (run_id: that run), the
-- rollback flow's before each phase it rolls back (run_id: the rollback run, once it exists).
CREATE TABLE IF NOT EXISTS tenant_migrate.decisions (
    id bigserial PRIMARY KEY,
    phase integer NOT NULL,
    direction text NOT NULL CHECK (direction IN ('up', 'down')),
    run_id bigint REFERENCES tenant_migrate.phase_runs (id),
    decision text NOT NULL CHECK (decision IN ('approved', 'rejected', 'timed_out', 'auto')),
    decided_by text NOT NULL DEFAULT '',
    comment text NOT NULL DEFAULT '',
    decided_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    flow_run_id text
);

-- What the migration owns: every object a phase created (recorded in the same transaction as the statement
-- that created it; a CONCURRENTLY build is recorded as 'pending' before it starts), and every object of the
-- app a phase uses as it is ('adopted'). Rollback drops, alters or empties only 'created' objects; an
-- adopted object is left exactly as it was. released_at: a down step removed it. objid, objsub: the object's
-- identity in the catalog when it was recorded (as in sql/ownership/objects.sql): a rollback undoes an object
-- only while the catalog still shows that identity (sql/ownership/undo_next.sql).
CREATE TABLE IF NOT EXISTS tenant_migrate.owned_objects (
    id bigserial PRIMARY KEY,
    phase integer NOT NULL,
    run_id bigint REFERENCES tenant_migrate.phase_runs (id),
    kind text NOT NULL,
    table_name text NOT NULL DEFAULT '',
    name text NOT NULL,
    detail text NOT NULL DEFAULT '',
    ownership text NOT NULL CHECK (ownership IN ('created', 'adopted', 'pending')),
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    released_at timestamptz
);
CREATE INDEX IF NOT EXISTS owned_objects_key_idx ON tenant_migrate.owned_objects (kind, table_name, name);
ALTER TABLE tenant_migrate.owned_objects ADD COLUMN IF NOT EXISTS objid oid, ADD COLUMN IF NOT EXISTS objsub bigint;

-- Which way phases 2-4 went (instant: tenant columns added with DEFAULT 1, no row rewritten; batched: nullable
-- columns filled in primary-key batches), recorded by phase 2; absent on ledgers older than the instant way,
-- which went the batched way.
ALTER TABLE tenant_migrate.phase_runs ADD COLUMN IF NOT EXISTS backfill text;

-- Rows phase 4's sweep gave a tenant (written with an explicit NULL tenant id), with the values they had, so
-- that its rollback puts them back exactly. id: the row's id as text (an integer or a uuid); a ledger made when it
-- was bigint is converted (only a handful of rows, if any).
CREATE TABLE IF NOT EXISTS tenant_migrate.swept_rows (
    table_name text NOT NULL,
    id text NOT NULL,
    user_id bigint,
    chatbot_id bigint,
    PRIMARY KEY (table_name, id)
);
DO $$
BEGIN
    IF (SELECT atttypid FROM pg_attribute
        WHERE attrelid = 'tenant_migrate.swept_rows'::regclass AND attname = 'id') = 'bigint'::regtype THEN
        ALTER TABLE tenant_migrate.swept_rows ALTER COLUMN id TYPE text;
    END IF;
END
$$;

-- The catalog as it was before phase 1 (sql/ownership/objects.sql, recorded when phase 1 starts): everything in it
-- is the app's. The suites check that all of it is still there, unchanged; a rollback never drops or alters an
-- object of it (by its key or its identity objid, objsub), whatever tenant_migrate.owned_objects says.
CREATE TABLE IF NOT EXISTS tenant_migrate.baseline_objects (
    kind text NOT NULL,
    table_name text NOT NULL,
    name text NOT NULL,
    detail text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (kind, table_name, name)
);
ALTER TABLE tenant_migrate.baseline_objects ADD COLUMN IF NOT EXISTS objid oid, ADD COLUMN IF NOT EXISTS objsub bigint;

-- Content fingerprints (tenant_migrate/fingerprint.py): per table of the app's and chunk of rows, the row count
-- and a hash of the rows' app columns, all read in one snapshot. A label names one fingerprint.
CREATE TABLE IF NOT EXISTS tenant_migrate.fingerprints (
    label text NOT NULL,
    table_name text NOT NULL,
    columns text[] NOT NULL,
    chunk bigint NOT NULL,
    row_count bigint NOT NULL,
    hash numeric NOT NULL,
    taken_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (label, table_name, chunk)
);

-- What the guard saw beside a phase (tenant_migrate/guard): its figures (app lock waits, replica lag, WAL, pauses,
-- cancels, its own cost), the series it plotted, and the plot's file. run_id: the phase run it watched, when the
-- phase got as far as starting one.
CREATE TABLE IF NOT EXISTS tenant_migrate.guard_figures (
    id bigserial PRIMARY KEY,
    phase integer NOT NULL,
    direction text NOT NULL CHECK (direction IN ('up', 'down')),
    run_id bigint REFERENCES tenant_migrate.phase_runs (id),
    flow_run_id text,
    whole_phase boolean NOT NULL,
    stopped text,
    figures jsonb NOT NULL,
    series jsonb NOT NULL DEFAULT '[]',
    plot_path text,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS guard_figures_phase_idx ON tenant_migrate.guard_figures (phase, id);

-- The forecast a phase run started with, beside what it took (tenant_migrate/forecast.py): the size of the legacy
-- tables when it started (heap and TOAST, bytes), the seconds forecast, where the rates came from and the drift
-- of the phases run just before that it was multiplied by (tenant_migrate/forecast.py, `drift`; NULL: none).
ALTER TABLE tenant_migrate.phase_runs ADD COLUMN IF NOT EXISTS size_bytes bigint;
ALTER TABLE tenant_migrate.phase_runs ADD COLUMN IF NOT EXISTS forecast_s numeric;
ALTER TABLE tenant_migrate.phase_runs ADD COLUMN IF NOT EXISTS forecast_basis text;
ALTER TABLE tenant_migrate.phase_runs ADD COLUMN IF NOT EXISTS forecast_drift numeric;
