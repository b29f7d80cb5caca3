-- 05_update_constraints / up / 15_validate_tenant_references
-- Requires: 05_update_constraints / up / 14_tenant_references
-- mode: generated
-- VALIDATE CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE only (+ ROW SHARE on the referenced table):
-- reads and writes continue. One constraint per transaction; only those not validated yet: idempotent.

SELECT format('ALTER TABLE %s VALIDATE CONSTRAINT %I', k.conrelid::regclass, k.conname) AS statement, NULL AS note
FROM tenant_migrate.tenant_references AS r
CROSS JOIN LATERAL tenant_migrate.leaf_tables(format('public.%I', r.table_name)::regclass) AS leaf
JOIN pg_constraint AS k ON k.conrelid = leaf AND k.conname = r.composite_name AND NOT k.convalidated
ORDER BY r.table_name, r.column_name, k.conrelid::regclass::text;
