-- zoo / 06_other_constraint_and_index_names: the app's own names for everything, a unique index where the demo
-- has a unique constraint, a partial unique index. Found by column, replaced, and given back under their names.
-- expect: migrates
ALTER TABLE contacts RENAME CONSTRAINT contacts_pkey TO pk_contacts;
ALTER TABLE contacts RENAME CONSTRAINT contacts_phone_number_key TO "Phone Number Unique";
ALTER TABLE contacts DROP CONSTRAINT contacts_thread_id_key;
CREATE UNIQUE INDEX uq_contacts_thread ON contacts (thread_id) WHERE thread_id IS NOT NULL;
ALTER TABLE messages RENAME CONSTRAINT messages_contact_id_fkey TO fk_message_contact;
ALTER INDEX messages_contact_id_idx RENAME TO ix_messages_by_contact;
ALTER TABLE orders RENAME CONSTRAINT orders_pkey TO pk_orders;
