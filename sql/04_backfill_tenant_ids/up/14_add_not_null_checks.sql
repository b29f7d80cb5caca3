-- 04_backfill_tenant_ids / up / 14_add_not_null_checks
-- Requires: 04_backfill_tenant_ids / up / 01-13 (the batched way: its backfill done; the foreign keys validated)
-- mode: generated
-- One CHECK per tenant table over all its tenant ids not yet NOT NULL, `CHECK (user_id IS NOT NULL AND chatbot_id
-- IS NOT NULL) NOT VALID` (campaign_subscribers: user_id only): ACCESS EXCLUSIVE for about a millisecond, no scan,
-- each in its own transaction. From now on no row can be written without a tenant, so one scan (step 15, or step 21
-- after a sweep) proves the whole table, and that validated CHECK is what lets step 22's SET NOT NULL skip its
-- scan (PostgreSQL 12+). One CHECK, not one per column: one VALIDATE scan per table instead of two.
-- The app's part: from this step on, an INSERT or UPDATE that names user_id or chatbot_id with an explicit NULL
-- fails (23514, check_violation), and so does any UPDATE of a row still without a tenant until the sweep gave it
-- one (a NOT VALID check holds every new row version). The legacy app never names them (DESIGN: its rows land on
-- tenant 1 by the DEFAULT 1), so only rows some other writer gave an explicit NULL are concerned, and only in a
-- table that has them, until its sweep (steps 16-20); that writer would fail at NOT NULL anyway (docs/phases.md).
-- Added here, after the batched way's backfill and the foreign keys' validations, not at the phase's start: no row
-- of the batched way is still NULL by then (an UPDATE of a legacy row would fail), and the window before the sweep
-- is as short as it can be. Named <table>_tenant_not_null_check (PostgreSQL 18 names its own NOT NULL constraints
-- <table>_<column>_not_null). Only for tables with such a column and without the check: idempotent.

SELECT format('ALTER TABLE public.%I ADD CONSTRAINT %I CHECK (%s) NOT VALID', t.table_name,
              t.table_name || '_tenant_not_null_check',
              string_agg(format('%I IS NOT NULL', t.column_name), ' AND ' ORDER BY t.ord)) AS statement,
       NULL AS note
FROM tenant_migrate.tenant_id_columns AS t
JOIN pg_attribute AS a
    ON a.attrelid = format('public.%I', t.table_name)::regclass AND a.attname = t.column_name
WHERE NOT a.attnotnull
    AND NOT EXISTS (
        SELECT 1 FROM pg_constraint AS k
        WHERE k.conrelid = a.attrelid AND k.conname = t.table_name || '_tenant_not_null_check'
    )
GROUP BY t.table_name
ORDER BY min(t.ord);
