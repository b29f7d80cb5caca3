-- expectations / 08_row_level_security / current_tenant_function
-- app_current_tenant() and app_tenant_token() exist and are STABLE (a VOLATILE policy function turns index scans into
-- sequential scans), app_set_tenant(bigint) exists, and all three have SQL-standard bodies (bound when created,
-- never by a caller's search_path)
WITH p AS (SELECT * FROM {batch} AS batch),
wanted (signature, volatility) AS (
    VALUES ('public.app_current_tenant()', 's'), ('public.app_tenant_token()', 's'), ('public.app_set_tenant(bigint)', 'v')
)
SELECT w.signature || ' missing, not ' || w.volatility || ' or not BEGIN ATOMIC' AS problem
FROM p CROSS JOIN wanted AS w
WHERE NOT EXISTS (SELECT 1 FROM pg_proc AS f
  WHERE f.oid = to_regprocedure(w.signature) AND f.provolatile = w.volatility AND f.prosqlbody IS NOT NULL)
