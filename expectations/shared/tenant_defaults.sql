-- expectations / shared / tenant_defaults
-- every tenant id (tenant_migrate.tenant_id_columns) defaults to tenant 1, so legacy INSERTs that omit them keep working
WITH p AS (SELECT * FROM {batch} AS batch),
req AS (SELECT w.table_name AS tbl, w.column_name AS col FROM tenant_migrate.tenant_id_columns AS w)
SELECT req.tbl, req.col FROM p CROSS JOIN req
LEFT JOIN pg_attrdef AS d ON d.adrelid = to_regclass('public.' || req.tbl)
  AND d.adnum = (SELECT a.attnum FROM pg_attribute AS a WHERE a.attrelid = to_regclass('public.' || req.tbl)
                 AND a.attname = req.col AND NOT a.attisdropped)
WHERE d.oid IS NULL OR pg_get_expr(d.adbin, d.adrelid) !~ '^1(::[a-z ]+)?$'
