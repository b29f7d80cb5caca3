-- expectations / 08_row_level_security / current_tenant_function
-- app_current_tenant() and app_tenant_token() exist and are STABLE (a VOLATILE policy function turns index scans into
-- sequential scans) with SQL-standard bodies (bound when created, never by a caller's search_path); app_set_tenant(bigint)
-- exists and runs with search_path = pg_catalog, pg_temp (PL/pgSQL: its SET LOCAL statements)
WITH p AS (SELECT * FROM {batch} AS batch),
wanted (signature, volatility, atomic) AS (
    VALUES ('public.app_current_tenant()', 's', true), ('public.app_tenant_token()', 's', true),
           ('public.app_set_tenant(bigint)', 'v', false)
)
SELECT w.signature || ' missing, not ' || w.volatility || ' or not ' ||
       CASE WHEN w.atomic THEN 'BEGIN ATOMIC' ELSE 'SET search_path = pg_catalog, pg_temp' END AS problem
FROM p CROSS JOIN wanted AS w
WHERE NOT EXISTS (SELECT 1 FROM pg_proc AS f
  WHERE f.oid = to_regprocedure(w.signature) AND f.provolatile = w.volatility
      AND CASE WHEN w.atomic THEN f.prosqlbody IS NOT NULL
               ELSE f.proconfig = ARRAY['search_path=pg_catalog, pg_temp'] END)
