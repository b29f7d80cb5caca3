-- 02_add_tenant_columns / up / 01_contacts_columns
-- Requires: 01_create_core_tables
-- The enhanced columns of the architecture; the tenant columns come in step 05 or 06 (by the way phases 2-4 go).
-- mode: transaction
-- Nullable columns and non-volatile constant defaults only: catalog-only change (PG11+ fast default),
-- ACCESS EXCLUSIVE for about a millisecond, no scan, no rewrite. An adopted column (the app's own
-- email, say) is left as it is: ADD COLUMN IF NOT EXISTS skips it.

ALTER TABLE contacts
    ADD COLUMN IF NOT EXISTS tags jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN IF NOT EXISTS custom_fields jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS last_interaction timestamptz,
    ADD COLUMN IF NOT EXISTS email text,
    ADD COLUMN IF NOT EXISTS language text,
    ADD COLUMN IF NOT EXISTS opted_in boolean,
    ADD COLUMN IF NOT EXISTS opted_in_at timestamptz;
