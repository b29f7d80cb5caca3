-- zoo / 23_expression_and_deferrable_uniques: the app's unique keys in other shapes. Phone numbers are unique whatever
-- their case, by an expression (lower(phone_number)); the thread id is unique with the contact's status, NULLS NOT
-- DISTINCT, with an INCLUDE column, DEFERRABLE INITIALLY DEFERRED. Phase 5's per-tenant keys keep each shape with
-- user_id first (the second still a deferrable constraint, the first a unique index: no constraint holds an
-- expression); the rollback gives both back as they were, under their names.
-- expect: migrates
-- validate: 4 5
ALTER TABLE contacts DROP CONSTRAINT contacts_phone_number_key, DROP CONSTRAINT contacts_thread_id_key;
CREATE UNIQUE INDEX contacts_phone_number_lower_key ON contacts (lower(phone_number));
UPDATE contacts SET thread_id = 'thread-' || id WHERE thread_id IS NULL;
ALTER TABLE contacts ADD CONSTRAINT contacts_thread_status_key UNIQUE NULLS NOT DISTINCT (thread_id, contact_status)
    INCLUDE (name) DEFERRABLE INITIALLY DEFERRED;
