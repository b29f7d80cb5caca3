-- 04_backfill_tenant_ids / down / 12_forget_swept_rows
-- Requires: 04_backfill_tenant_ids / down / 07-11
-- backfill: instant
-- mode: transaction
-- The swept rows have their old values again: their records are done with. Touches only the ledger schema.

DELETE FROM tenant_migrate.swept_rows;
