-- 04_backfill_tenant_ids / down / 06_clear_campaign_subscribers
-- Requires: 04_backfill_tenant_ids / down / 01_undo_created_objects (defaults dropped)
-- backfill: batched
-- mode: batched
-- table: campaign_subscribers
-- Back to the pre-phase state: tenant id NULL. No row is deleted (rows written since phase 4 stay).
-- rows: user_id IS NOT NULL
-- One primary-key range per short transaction; rows already NULL are skipped, so a re-run is a no-op. The
-- columns are the migration's own (phase 2 created them); no trigger of the app's fires (replica role).
-- squawk cannot parse the lo/hi placeholders: tests/test_squawk.py lints this statement
-- with them replaced by numbers.

UPDATE public.campaign_subscribers
SET user_id = NULL
WHERE id >= %(lo)s AND id < %(hi)s AND user_id IS NOT NULL;
