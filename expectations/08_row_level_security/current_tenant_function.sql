-- expectations / 08_row_level_security / current_tenant_function
-- app_current_tenant() exists and is STABLE (a VOLATILE policy function turns index scans into sequential scans)
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT 'public.app_current_tenant() missing or not STABLE' AS problem FROM p
WHERE NOT EXISTS (SELECT 1 FROM pg_proc AS f JOIN pg_namespace AS n ON n.oid = f.pronamespace
  WHERE n.nspname = 'public' AND f.proname = 'app_current_tenant' AND f.pronargs = 0 AND f.provolatile = 's')
