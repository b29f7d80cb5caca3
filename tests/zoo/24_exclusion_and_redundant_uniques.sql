-- zoo / 24_exclusion_and_redundant_uniques: unique keys phase 5 cannot make per tenant. Phone numbers kept apart by an
-- exclusion constraint (EXCLUDE USING btree (phone_number WITH =)) instead of a unique key, and two unique keys on
-- the thread id (the column's and one on lower(thread_id)). Refused before any change, one line each, with why.
-- expect: refused
-- refuses: phase 5 unique contacts_phone_number_excl on contacts \(phone_number\): an exclusion constraint: phase 5 rebuilds unique keys per tenant, not exclusion constraints; replace it by a unique index on the same key, or drop it$
-- refuses: phase 5 unique contacts_thread_id_key on contacts \(thread_id\): one of 2 unique keys of the app's on thread_id; phase 5 makes one per tenant: drop those another one makes redundant$
-- refuses: phase 5 unique contacts_thread_id_lower_key on contacts \(thread_id\): one of 2 unique keys
ALTER TABLE contacts DROP CONSTRAINT contacts_phone_number_key;
ALTER TABLE contacts ADD CONSTRAINT contacts_phone_number_excl EXCLUDE USING btree (phone_number WITH =);
CREATE UNIQUE INDEX contacts_thread_id_lower_key ON contacts (lower(thread_id));
