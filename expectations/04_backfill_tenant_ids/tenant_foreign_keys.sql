-- expectations / 04_backfill_tenant_ids / tenant_foreign_keys
-- the foreign key of every tenant id (tenant_migrate.tenant_id_columns: user_id -> users (id), (user_id,
-- chatbot_id) -> chatbots (user_id, id)), validated (on a partitioned table, the parent's: every partition has it)
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT w.table_name, array_to_string(w.fk_columns, ', ') AS columns, w.referenced,
       CASE WHEN k.oid IS NULL THEN 'missing' ELSE 'not validated' END AS problem
FROM p CROSS JOIN tenant_migrate.tenant_id_columns AS w
LEFT JOIN LATERAL (SELECT k.oid, k.convalidated FROM pg_constraint AS k
  WHERE k.contype = 'f' AND k.conrelid = to_regclass('public.' || w.table_name)
    AND k.confrelid = to_regclass('public.' || w.referenced)
    AND array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u (attnum, pos)
              JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.pos) = w.fk_columns
  ORDER BY k.convalidated DESC LIMIT 1) AS k ON true
WHERE k.oid IS NULL OR NOT k.convalidated
