-- zoo / 22_soft_deleted_phone_numbers: soft deletes. A phone number is unique among live contacts only (a partial
-- unique index, WHERE deleted_at IS NULL), and every tenth customer was deleted and came back as a new contact with
-- the same number. Phase 5's per-tenant key keeps the app's predicate: (user_id, phone_number) WHERE deleted_at IS
-- NULL, so the deleted rows are no duplicates, neither for the check nor for the suites of phases 4 and 5; the
-- rollback gives the partial index back as it was.
-- expect: migrates
-- validate: 4 5
ALTER TABLE contacts ADD COLUMN deleted_at timestamptz;
ALTER TABLE contacts DROP CONSTRAINT contacts_phone_number_key;
CREATE UNIQUE INDEX contacts_live_phone_number_key ON contacts (phone_number) WHERE deleted_at IS NULL;
UPDATE contacts SET deleted_at = now() - interval '30 days' WHERE id % 10 = 0;
INSERT INTO contacts (phone_number, name) SELECT phone_number, 'came back' FROM contacts WHERE deleted_at IS NOT NULL;
