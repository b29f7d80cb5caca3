-- 02_add_tenant_columns / up / 01_contacts_columns
-- Requires: 01_create_core_tables
-- mode: transaction
-- Nullable columns and non-volatile constant defaults only: catalog-only change (PG11+ fast default),
-- ACCESS EXCLUSIVE for about a millisecond, no scan, no rewrite. No REFERENCES here: an inline FK
-- would be checked by a scan under that lock; the FKs come NOT VALID in step 05, validated in 06.

ALTER TABLE contacts
    ADD COLUMN IF NOT EXISTS user_id bigint,
    ADD COLUMN IF NOT EXISTS chatbot_id bigint,
    ADD COLUMN IF NOT EXISTS tags jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN IF NOT EXISTS custom_fields jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS last_interaction timestamptz,
    ADD COLUMN IF NOT EXISTS email text,
    ADD COLUMN IF NOT EXISTS language text,
    ADD COLUMN IF NOT EXISTS opted_in boolean,
    ADD COLUMN IF NOT EXISTS opted_in_at timestamptz;
