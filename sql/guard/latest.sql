-- guard / latest: the newest figures of each phase (either direction), for `tenant-migrate status`.
SELECT DISTINCT ON (phase) phase, direction, run_id, figures, plot_path, recorded_at
FROM tenant_migrate.guard_figures
ORDER BY phase, id DESC;
