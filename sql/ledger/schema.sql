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
