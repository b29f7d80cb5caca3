-- 05_update_constraints / up / 07_attach_composite_uniques
-- Requires: 05_update_constraints / up / 05, 06
-- mode: transaction
-- ADD CONSTRAINT ... UNIQUE USING INDEX: catalog-only (the indexes are built and valid), ACCESS
-- EXCLUSIVE for about a millisecond. The catalog checks make it idempotent.

DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'public.contacts'::regclass AND conname = 'unique_contact_per_user'
    ) THEN
        ALTER TABLE contacts ADD CONSTRAINT unique_contact_per_user UNIQUE USING INDEX unique_contact_per_user;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint
        WHERE conrelid = 'public.contacts'::regclass AND conname = 'unique_thread_per_user'
    ) THEN
        ALTER TABLE contacts ADD CONSTRAINT unique_thread_per_user UNIQUE USING INDEX unique_thread_per_user;
    END IF;
END
$$;
