-- zoo / 04_messages_partitioned_by_month: messages partitioned by month of sent_at (the usual shape of a large
-- message log; its primary key includes the partition key, so orders can no longer reference a message by id
-- alone). Foreign keys go per partition then on the parent, indexes per partition then attached: all online.
-- expect: migrates
-- validate: all
ALTER TABLE orders DROP CONSTRAINT orders_message_id_fkey;
ALTER TABLE messages RENAME TO messages_old;
ALTER SEQUENCE messages_id_seq OWNED BY NONE;
CREATE TABLE messages (
    id integer NOT NULL DEFAULT nextval('messages_id_seq'),
    contact_id integer REFERENCES contacts (id),
    message_id varchar(128),
    direction varchar(16) CHECK (direction IN ('incoming', 'outgoing')),
    message_type varchar(32) DEFAULT 'text',
    content_text text,
    content_url text,
    status varchar(32),
    sent_at timestamptz NOT NULL DEFAULT now(),
    metadata jsonb,
    PRIMARY KEY (id, sent_at)
) PARTITION BY RANGE (sent_at);
DO $$
DECLARE m date;
BEGIN
    FOR m IN SELECT generate_series(date '2024-12-01', date '2027-12-01', interval '1 month')::date LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF messages FOR VALUES FROM (%L) TO (%L)',
                       'messages_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
    END LOOP;
END $$;
INSERT INTO messages SELECT * FROM messages_old;
DROP TABLE messages_old;
ALTER SEQUENCE messages_id_seq OWNED BY messages.id;
CREATE INDEX messages_contact_id_idx ON messages (contact_id);
