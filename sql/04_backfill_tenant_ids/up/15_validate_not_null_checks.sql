-- 04_backfill_tenant_ids / up / 15_validate_not_null_checks
-- Requires: 04_backfill_tenant_ids / up / 14_add_not_null_checks
-- mode: generated
-- The one scan that proves a table has no row without a tenant: VALIDATE CONSTRAINT of step 14's check, under
-- SHARE UPDATE EXCLUSIVE only (reads and writes continue), one table per transaction. Tried first, before any
-- sweep: the instant way gave every row tenant 1 by its DEFAULT, so normally it passes, and then the table's sweep
-- (steps 16-20) is skipped: one scan instead of a sweep plus a validation. A table that still holds a row written
-- with an explicit NULL fails it (check_violation, caught here: the check stays NOT VALID and still refuses new
-- NULLs); its sweep then gives those rows tenant 1 and step 21 validates. The batched way's backfill leaves no such
-- row (only a writer's explicit NULL since would), so this passes there too. A VALIDATE cannot pause mid-scan:
-- the guard paces between tables, not within one. Only checks not validated yet: idempotent.

SELECT format('DO $validate$ BEGIN ALTER TABLE public.%I VALIDATE CONSTRAINT %I; '
              'EXCEPTION WHEN check_violation THEN RAISE NOTICE %L; END $validate$',
              c.relname, k.conname,
              c.relname || ': rows without a tenant remain; its sweep gives them tenant 1') AS statement,
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
