-- The transaction's tenant for row-level security (phase 8): valid in this transaction only (sql/08_row_level_security).
SELECT public.app_set_tenant(%(user_id)s)
