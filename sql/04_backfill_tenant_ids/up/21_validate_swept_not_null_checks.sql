-- 04_backfill_tenant_ids / up / 21_validate_swept_not_null_checks
-- Requires: 04_backfill_tenant_ids / up / 16-20 (the sweeps)
-- mode: generated
-- VALIDATE CONSTRAINT of the checks step 15 could not validate (a table that held rows written with an explicit
-- NULL), now that the sweep gave them tenant 1: SHARE UPDATE EXCLUSIVE only, one table per transaction. Normally
-- none is left and nothing runs. A check that still fails stops the phase here, before SET NOT NULL (resumable).
-- Only checks not validated yet: idempotent.

SELECT format('ALTER TABLE public.%I VALIDATE CONSTRAINT %I', c.relname, k.conname) AS statement,
       NULL AS note
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
    AND k.contype = 'c'
    AND NOT k.convalidated
    AND k.conname = c.relname || '_tenant_not_null_check'
    AND c.relname IN (SELECT t.table_name FROM tenant_migrate.tenant_id_columns AS t)
ORDER BY c.relname;
