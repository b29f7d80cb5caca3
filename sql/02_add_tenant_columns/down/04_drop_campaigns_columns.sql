-- 02_add_tenant_columns / down / 04_drop_campaigns_columns
-- Requires: 03_create_admin_user rolled back (or never applied)
-- mode: transaction
-- DROP COLUMN is catalog-only (ACCESS EXCLUSIVE for about a millisecond, no rewrite); the columns'
-- FKs, unique constraint and indexes go with them. IF EXISTS: safe after a partial up.

-- squawk-ignore-file ban-drop-column -- rollback of this phase: it drops only the columns its up script added
ALTER TABLE campaigns
    DROP COLUMN IF EXISTS user_id,
    DROP COLUMN IF EXISTS chatbot_id,
    DROP COLUMN IF EXISTS target_criteria,
    DROP COLUMN IF EXISTS scheduled_at;
