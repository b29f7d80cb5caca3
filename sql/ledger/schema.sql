-- ledger / schema: the migration's own bookkeeping, in its own schema of the target database.
-- Idempotent: the runner runs it at the start of every command that writes.

CREATE SCHEMA IF NOT EXISTS tenant_migrate;

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

-- Definitions of objects a phase dropped, so that its down script recreates them exactly.
CREATE TABLE IF NOT EXISTS tenant_migrate.saved_objects (
    phase integer NOT NULL,
    table_name text NOT NULL,
    object_name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('constraint', 'index')),
    definition text NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (phase, object_name)
);

-- A table, or the leaf partitions of a partitioned one: where a foreign key is added NOT VALID and validated
-- before its partitioned parent adopts them (PostgreSQL 15 cannot add a NOT VALID foreign key to the parent).
CREATE OR REPLACE FUNCTION tenant_migrate.leaf_tables(relation regclass) RETURNS SETOF regclass
LANGUAGE sql STABLE AS $fn$
    SELECT p.relid FROM pg_partition_tree(relation) AS p WHERE p.isleaf
    UNION ALL
    SELECT relation WHERE NOT EXISTS (SELECT 1 FROM pg_partition_tree(relation))
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
-- adopted object is left exactly as it was. released_at: a down step removed it.
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

-- Which way phases 2-4 went (instant: tenant columns added with DEFAULT 1, no row rewritten; batched: nullable
-- columns filled in primary-key batches), recorded by phase 2; absent on ledgers older than the instant way,
-- which went the batched way.
ALTER TABLE tenant_migrate.phase_runs ADD COLUMN IF NOT EXISTS backfill text;

-- Rows phase 4's sweep gave a tenant (written with an explicit NULL tenant id), with the values they had, so
-- that its rollback puts them back exactly.
CREATE TABLE IF NOT EXISTS tenant_migrate.swept_rows (
    table_name text NOT NULL,
    id bigint NOT NULL,
    user_id bigint,
    chatbot_id bigint,
    PRIMARY KEY (table_name, id)
);

-- The catalog as it was before phase 1 (sql/ownership/objects.sql, recorded when phase 1 starts): everything in it
-- is the app's. The suites check that all of it is still there, unchanged.
CREATE TABLE IF NOT EXISTS tenant_migrate.baseline_objects (
    kind text NOT NULL,
    table_name text NOT NULL,
    name text NOT NULL,
    detail text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (kind, table_name, name)
);

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
-- tables when it started (heap and TOAST, bytes), the seconds forecast and where the rates came from.
ALTER TABLE tenant_migrate.phase_runs ADD COLUMN IF NOT EXISTS size_bytes bigint;
ALTER TABLE tenant_migrate.phase_runs ADD COLUMN IF NOT EXISTS forecast_s numeric;
ALTER TABLE tenant_migrate.phase_runs ADD COLUMN IF NOT EXISTS forecast_basis text;
