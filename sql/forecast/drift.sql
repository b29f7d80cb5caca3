-- forecast / drift: how the phases of this ledger ran lately against their forecasts: its newest finished runs (in
-- the last hour) that took at least %(from_s)s seconds, with the forecast each started with before its own drift
-- was applied (forecast_s / forecast_drift). Not a resumed run: it ran only the steps left, against the forecast of
-- the whole phase. tenant_migrate/forecast.py, `drift`.
SELECT duration_s::float8 AS took, (forecast_s / coalesce(forecast_drift, 1))::float8 AS expected
FROM tenant_migrate.phase_runs
WHERE status IN ('applied', 'rolled_back') AND resumed_from IS NULL AND forecast_s > 0 AND duration_s >= %(from_s)s
    AND finished_at > now() - interval '1 hour'
ORDER BY id DESC
LIMIT %(runs)s;
