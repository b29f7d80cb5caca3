-- expectations / shared / app_objects_unchanged
-- every object of the app's (the catalog as it was before phase 1) is still there, unchanged; only an object a
-- phase replaced after saving it (phase 5's single-column uniques and references, phase 9's keys) may be gone, until
-- its rollback gives it back
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT b.kind, b.table_name, b.name, b.detail AS before, o.detail AS now
FROM p
CROSS JOIN tenant_migrate.baseline_objects AS b
LEFT JOIN tenant_migrate.catalog_objects AS o ON (o.kind, o.table_name, o.name) = (b.kind, b.table_name, b.name)
WHERE o.detail IS DISTINCT FROM b.detail
    -- a CHECK rebuilt from its text (phase 9's rollback builds each table anew) may gain or lose casts and parentheses
    AND NOT (starts_with(b.detail, 'CHECK') AND regexp_replace(o.detail, '::[a-z ]+(\[\])?|[()]', '', 'g')
                                        = regexp_replace(b.detail, '::[a-z ]+(\[\])?|[()]', '', 'g'))
    AND NOT EXISTS (SELECT 1 FROM tenant_migrate.saved_keys AS s
                    WHERE (s.kind, s.table_name, s.name) = (b.kind, b.table_name, b.name))
