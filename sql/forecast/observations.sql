-- forecast / observations: what each finished phase run of this ledger took, step by step, with the size of the
-- tables when it started: the rates a forecast scales. Only runs that ran every step themselves (not resumed) and
-- recorded their size. A step's time runs from the end of the step before it (or the run's start) to its own end.
SELECT r.id AS run_id, r.phase, r.direction, coalesce(r.backfill, 'batched') AS way, r.size_bytes,
       r.finished_at, extract(epoch FROM r.finished_at - r.started_at)::float8 AS seconds, s.step,
       extract(epoch FROM s.updated_at - lag(s.updated_at, 1, r.started_at) OVER (PARTITION BY r.id
                                                                                   ORDER BY s.updated_at))::float8
           AS step_seconds
FROM tenant_migrate.phase_runs AS r
JOIN tenant_migrate.step_progress AS s ON s.run_id = r.id AND s.status = 'done'
WHERE r.status IN ('applied', 'rolled_back') AND r.resumed_from IS NULL AND r.size_bytes IS NOT NULL
    AND r.finished_at IS NOT NULL
ORDER BY r.id, s.updated_at;
