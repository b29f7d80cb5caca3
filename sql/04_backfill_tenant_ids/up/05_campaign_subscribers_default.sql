-- 04_backfill_tenant_ids / up / 05_campaign_subscribers_default
-- Requires: 03_create_admin_user
-- backfill: batched
-- mode: transaction
-- Steps 01-05 come first, so that rows the legacy app inserts during and after the backfill land on
-- tenant 1. SET DEFAULT is catalog-only: ACCESS EXCLUSIVE for about a millisecond, no scan. One table
-- per step (per transaction): a step holding one table's lock while it queued for the next one's
-- would stall writers of both.

-- squawk-ignore prefer-robust-stmts -- mode: transaction, the runner wraps the file in one transaction
ALTER TABLE campaign_subscribers ALTER COLUMN user_id SET DEFAULT 1;
