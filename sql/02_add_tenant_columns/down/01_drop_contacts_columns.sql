-- 02_add_tenant_columns / down / 01_drop_contacts_columns
-- Requires: 03_create_admin_user rolled back (or never applied)
-- mode: transaction
-- DROP COLUMN is catalog-only (ACCESS EXCLUSIVE for about a millisecond, no rewrite); the columns'
-- FKs, unique constraint and indexes go with them. IF EXISTS: safe after a partial up.

-- squawk-ignore-file ban-drop-column -- rollback of this phase: it drops only the columns its up script added
ALTER TABLE contacts
    DROP COLUMN IF EXISTS user_id,
    DROP COLUMN IF EXISTS chatbot_id,
    DROP COLUMN IF EXISTS tags,
    DROP COLUMN IF EXISTS custom_fields,
    DROP COLUMN IF EXISTS last_interaction,
    DROP COLUMN IF EXISTS email,
    DROP COLUMN IF EXISTS language,
    DROP COLUMN IF EXISTS opted_in,
    DROP COLUMN IF EXISTS opted_in_at;
