-- zoo / 18_phone_number_index_only: the app looks contacts up by phone number through a plain index: nothing but the
-- app's care keeps phone numbers unique. No duplicate today: it migrates. Between phases 4 and 5 the app saves a
-- customer twice: the check before phase 5 refuses (phase 5's per-tenant key would fail on it), nothing changes;
-- once the duplicate is gone, the migration goes on. Run as a managed service's admin role would (LOGIN CREATEROLE
-- CREATEDB, not superuser, no replication), owning the database and the app's tables: like a superuser's run.
-- expect: migrates
-- runs-as: owner
-- app-writes: 5 INSERT INTO contacts (phone_number, name) SELECT phone_number, 'saved twice' FROM contacts WHERE id = 10
-- then-refused: phase 5 data for unique_contact_per_user UNIQUE \(user_id, phone_number\) on contacts: 2 rows share 1 values of phone_number \(every row of the app's lands on tenant 1\); ids sharing one: 10 = \d+: merge
-- cleanup: DELETE FROM contacts WHERE name = 'saved twice'
ALTER TABLE contacts DROP CONSTRAINT contacts_phone_number_key;
CREATE INDEX contacts_phone_number_idx ON contacts (phone_number);
