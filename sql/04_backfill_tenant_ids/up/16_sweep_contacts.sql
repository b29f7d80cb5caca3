-- 04_backfill_tenant_ids / up / 16_sweep_contacts
-- Requires: 04_backfill_tenant_ids / up / 15_validate_not_null_checks
-- backfill: instant
-- mode: batched
-- skip if: SELECT tenant_migrate.tenant_ids_proven('contacts')
-- table: contacts
-- rows: user_id IS NULL OR chatbot_id IS NULL
-- The instant way gave every row tenant 1 by its DEFAULT; only a writer that named the columns with an explicit
-- NULL leaves one without: normally none, and then step 15's validation proved it and this sweep is skipped (the
-- `skip if` header: no scan). Otherwise it walks the table in key ranges, each a guard point; each such row gets
-- tenant 1, and its old values go to tenant_migrate.swept_rows so that the rollback puts them back exactly.
-- Each batch runs with session_replication_role = replica: no trigger of the app's fires (or the step refuses,
-- naming them). squawk lints this statement with the lo/hi placeholders replaced.

WITH old AS (
    SELECT t.id, t.user_id, t.chatbot_id FROM public.contacts AS t
    WHERE t.id >= %(lo)s AND t.id < %(hi)s AND (t.user_id IS NULL OR t.chatbot_id IS NULL)
    FOR UPDATE
),
saved AS (
    INSERT INTO tenant_migrate.swept_rows (table_name, id, user_id, chatbot_id)
    SELECT 'contacts', old.id::text, old.user_id, old.chatbot_id FROM old
    ON CONFLICT DO NOTHING
)
UPDATE public.contacts AS t
SET user_id = coalesce(t.user_id, 1), chatbot_id = coalesce(t.chatbot_id, 1)
FROM old
WHERE t.id = old.id;
