-- expectations / 02_add_tenant_columns / tenant_columns
-- the tenant ids (bigint; tenant_migrate.tenant_id_columns: user_id and chatbot_id on contacts, messages, orders,
-- campaigns, user_id on campaign_subscribers): with DEFAULT 1 the instant way, nullable
-- and without a default the batched way (the way phase 2 recorded in the ledger)
WITH p AS (SELECT * FROM {batch} AS batch),
way AS (
    SELECT coalesce((SELECT r.backfill FROM tenant_migrate.phase_runs AS r WHERE r.phase = 2 AND r.direction = 'up'
                     ORDER BY r.id DESC LIMIT 1), 'batched') AS way
),
req AS (SELECT w.table_name AS tbl, w.column_name AS col FROM tenant_migrate.tenant_id_columns AS w)
SELECT req.tbl, req.col, way.way,
       CASE WHEN a.attname IS NULL THEN 'missing'
            WHEN format_type(a.atttypid, a.atttypmod) <> 'bigint' THEN 'not bigint'
            WHEN a.attnotnull THEN 'NOT NULL'
            WHEN way.way = 'instant' THEN 'no DEFAULT 1'
            ELSE 'has a default' END AS problem
FROM p CROSS JOIN way CROSS JOIN req
LEFT JOIN pg_attribute AS a
    ON a.attrelid = to_regclass('public.' || req.tbl) AND a.attname = req.col AND NOT a.attisdropped
LEFT JOIN pg_attrdef AS d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attname IS NULL OR format_type(a.atttypid, a.atttypmod) <> 'bigint' OR a.attnotnull
    OR (way.way = 'instant' AND coalesce(pg_get_expr(d.adbin, d.adrelid), '') !~ '^1(::[a-z ]+)?$')
    OR (way.way = 'batched' AND d.oid IS NOT NULL)
