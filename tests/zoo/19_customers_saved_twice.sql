-- zoo / 19_customers_saved_twice: only an index on phone_number, and a few customers were saved twice (one three
-- times); two contacts share a conversation thread. Refused before any change: one line per key the plan would add,
-- with how many rows break it and their ids (never the phone numbers).
-- expect: refused
-- refuses: phase 5 data for unique_contact_per_user UNIQUE \(user_id, phone_number\) on contacts: 7 rows share 3 values of phone_number .*; ids sharing one: 3 = \d+ = \d+; 5 = \d+; 7 = \d+: merge
-- refuses: phase 5 data for unique_thread_per_user UNIQUE \(user_id, thread_id\) on contacts: 2 rows share 1 values of thread_id .*; ids sharing one: 1 = 2:
ALTER TABLE contacts DROP CONSTRAINT contacts_phone_number_key, DROP CONSTRAINT contacts_thread_id_key;
CREATE INDEX contacts_phone_number_idx ON contacts (phone_number);
INSERT INTO contacts (phone_number, name) SELECT phone_number, 'saved again' FROM contacts WHERE id IN (3, 5, 7);
INSERT INTO contacts (phone_number, name) SELECT phone_number, 'saved again' FROM contacts WHERE id = 3;
UPDATE contacts SET thread_id = (SELECT c.thread_id FROM contacts AS c WHERE c.id = 1) WHERE id = 2;
