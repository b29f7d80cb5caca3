-- 08_row_level_security / down / 02_drop_policies
-- Requires: 08_row_level_security / down / 01_disable_row_level_security
-- mode: generated
-- Drop the two policies of phase 8 wherever they are; other policies are left alone.

SELECT format('DROP POLICY IF EXISTS %I ON public.%I', p.policyname, p.tablename) AS statement, NULL AS note
FROM pg_policies AS p
WHERE p.schemaname = 'public' AND p.policyname IN ('tenant_isolation', 'tenant_owner_all')
ORDER BY p.tablename, p.policyname;
