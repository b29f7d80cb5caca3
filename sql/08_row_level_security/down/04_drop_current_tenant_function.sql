-- 08_row_level_security / down / 04_drop_current_tenant_function
-- Requires: 08_row_level_security / down / 03_revoke_grants
-- mode: transaction

DROP FUNCTION IF EXISTS public.app_current_tenant();
