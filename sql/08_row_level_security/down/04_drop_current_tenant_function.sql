-- 08_row_level_security / down / 04_drop_current_tenant_function
-- Requires: 08_row_level_security / down / 02_drop_policies (no policy uses the function any more)
-- mode: transaction

-- squawk-ignore ban-drop-function -- only the policies of this phase called it, and they are gone
DROP FUNCTION IF EXISTS public.app_current_tenant();
