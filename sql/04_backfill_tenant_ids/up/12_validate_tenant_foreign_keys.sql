-- 04_backfill_tenant_ids / up / 12_validate_tenant_foreign_keys
-- Requires: 04_backfill_tenant_ids / up / 11_tenant_foreign_keys
-- mode: generated
-- VALIDATE CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE only (+ ROW SHARE on users/chatbots): reads
-- and writes continue. One constraint per transaction; only those not validated yet: idempotent.

SELECT format('ALTER TABLE %s VALIDATE CONSTRAINT %I', k.conrelid::regclass, k.conname) AS statement, NULL AS note
FROM tenant_migrate.tenant_id_columns AS w
CROSS JOIN LATERAL tenant_migrate.leaf_tables(format('public.%I', w.table_name)::regclass) AS leaf
JOIN pg_constraint AS k ON k.conrelid = leaf AND k.contype = 'f' AND NOT k.convalidated AND k.conparentid = 0
    AND k.confrelid = format('public.%I', w.referenced)::regclass
    AND (SELECT a.attname FROM pg_attribute AS a
         WHERE a.attrelid = k.conrelid AND a.attnum = k.conkey[cardinality(k.conkey)]) = w.column_name
ORDER BY w.ord, k.conrelid::regclass::text, k.conname;
