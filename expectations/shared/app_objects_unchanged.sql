-- expectations / shared / app_objects_unchanged
-- every object of the app's (the catalog as it was before phase 1) is still there, unchanged; only an object a
-- phase replaced after saving it (phase 5's single-column uniques) may be gone, until its rollback gives it back
WITH p AS (SELECT * FROM {batch} AS batch),
saved AS (
    SELECT s.kind, s.table_name, s.object_name AS name FROM tenant_migrate.saved_objects AS s
    UNION ALL
    SELECT 'index', s.table_name, s.object_name FROM tenant_migrate.saved_objects AS s
)
SELECT b.kind, b.table_name, b.name, b.detail AS before, o.detail AS now
FROM p
CROSS JOIN tenant_migrate.baseline_objects AS b
LEFT JOIN tenant_migrate.catalog_objects AS o ON (o.kind, o.table_name, o.name) = (b.kind, b.table_name, b.name)
WHERE o.detail IS DISTINCT FROM b.detail
    AND NOT EXISTS (SELECT 1 FROM saved AS s WHERE (s.kind, s.table_name, s.name) = (b.kind, b.table_name, b.name))
