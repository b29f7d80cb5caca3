-- expectations / 05_update_constraints / no_single_column_uniques
-- no unique constraint or index left on contacts(phone_number) or contacts(thread_id) alone, but the one phase 5
-- adopted to keep (--keep-global-unique)
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT i.relname AS index_name, a.attname AS column_name FROM p CROSS JOIN pg_index AS x
JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
JOIN pg_class AS i ON i.oid = x.indexrelid
WHERE x.indrelid = to_regclass('public.contacts') AND x.indisunique AND x.indnkeyatts = 1
  AND a.attname IN ('phone_number', 'thread_id')
  AND NOT EXISTS (SELECT 1 FROM tenant_migrate.owned_objects AS w
                  WHERE w.phase = 5 AND w.ownership = 'adopted' AND w.kind = 'index' AND w.table_name = 'contacts'
                      AND w.name = i.relname AND w.released_at IS NULL)
