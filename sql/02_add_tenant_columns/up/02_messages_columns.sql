-- 02_add_tenant_columns / up / 02_messages_columns
-- Requires: 01_create_core_tables
-- The enhanced columns of the architecture; the tenant columns come in step 05 or 06 (by the way phases 2-4 go).
-- mode: transaction
-- Nullable columns and a constant default: catalog-only, ACCESS EXCLUSIVE for about a millisecond.

ALTER TABLE messages
    ADD COLUMN IF NOT EXISTS is_from_human boolean NOT NULL DEFAULT false;
