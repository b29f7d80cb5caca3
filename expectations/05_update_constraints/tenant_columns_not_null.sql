-- expectations / 05_update_constraints / tenant_columns_not_null
-- every tenant id (tenant_migrate.tenant_id_columns) is NOT NULL
WITH p AS (SELECT * FROM {batch} AS batch),
req AS (SELECT w.table_name AS tbl, w.column_name AS col FROM tenant_migrate.tenant_id_columns AS w)
SELECT req.tbl, req.col FROM p CROSS JOIN req WHERE NOT EXISTS (SELECT 1 FROM pg_attribute AS a
  WHERE a.attrelid = to_regclass('public.' || req.tbl) AND a.attname = req.col AND a.attnotnull AND NOT a.attisdropped)
