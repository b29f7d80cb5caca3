-- 02_add_tenant_columns / up / 02_messages_columns
-- Requires: 01_create_core_tables
-- mode: transaction
-- Nullable columns and a constant default: catalog-only, ACCESS EXCLUSIVE for about a millisecond.

ALTER TABLE messages
    ADD COLUMN IF NOT EXISTS user_id bigint,
    ADD COLUMN IF NOT EXISTS chatbot_id bigint,
    ADD COLUMN IF NOT EXISTS is_from_human boolean NOT NULL DEFAULT false;
