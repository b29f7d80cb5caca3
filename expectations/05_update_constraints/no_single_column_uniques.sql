-- expectations / 05_update_constraints / no_single_column_uniques
-- no unique key of the app's left on contacts' phone_number or thread_id (whatever its shape: partial, expression,
-- several columns), but the one phase 5 adopted to keep (--keep-global-unique)
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT u.index_name, u.column_name FROM p CROSS JOIN tenant_migrate.tenant_uniques AS u
WHERE u.index_name IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM tenant_migrate.owned_objects AS w
                  WHERE w.phase = 5 AND w.ownership = 'adopted' AND w.kind = 'index' AND w.table_name = 'contacts'
                      AND w.name = u.index_name AND w.released_at IS NULL)
