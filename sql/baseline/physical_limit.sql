-- baseline / physical_limit
-- What a perfect hand-written script would cost: the plan's phases 1-7 with the cheapest statements that reach
-- the same schema, no orchestration (no ledger, no lock_timeout, no retries, no validation, no CONCURRENTLY).
-- It reaches the schema tenant-migrate reaches (phases 1-7, composite keys and references included): the tenant
-- columns come with DEFAULT 1 (catalog only: no UPDATE, no rewrite), foreign keys and NOT NULL are added plainly
-- (one scan each, under their lock), unique keys and indexes are built plainly. It exists only as the "physical
-- limit" run of benchmarks/online_migration.py; the migration never runs it. It locks the live app out while
-- it scans and builds: the benchmark shows how long.
-- Each phase starts with `\echo PHASE n`: the benchmark timestamps these lines as psql prints them.

\echo PHASE 1
\ir parts/1_core_tables.sql

\echo PHASE 2
ALTER TABLE contacts
    ADD COLUMN user_id bigint DEFAULT 1,
    ADD COLUMN chatbot_id bigint DEFAULT 1,
    ADD COLUMN tags jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN custom_fields jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN last_interaction timestamptz,
    ADD COLUMN email text,
    ADD COLUMN language text,
    ADD COLUMN opted_in boolean,
    ADD COLUMN opted_in_at timestamptz;
ALTER TABLE messages
    ADD COLUMN user_id bigint DEFAULT 1,
    ADD COLUMN chatbot_id bigint DEFAULT 1,
    ADD COLUMN is_from_human boolean NOT NULL DEFAULT false;
ALTER TABLE orders
    ADD COLUMN user_id bigint DEFAULT 1,
    ADD COLUMN chatbot_id bigint DEFAULT 1,
    ADD COLUMN order_number text UNIQUE,
    ADD COLUMN total_amount numeric(12, 2),
    ADD COLUMN currency text NOT NULL DEFAULT 'USD',
    ADD COLUMN payment_status text NOT NULL DEFAULT 'pending';
ALTER TABLE campaigns
    ADD COLUMN user_id bigint DEFAULT 1,
    ADD COLUMN chatbot_id bigint DEFAULT 1,
    ADD COLUMN target_criteria jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN scheduled_at timestamptz;
ALTER TABLE campaign_subscribers ADD COLUMN user_id bigint DEFAULT 1;

\echo PHASE 3
\ir parts/3_admin_user.sql

\echo PHASE 4
ALTER TABLE contacts ADD FOREIGN KEY (user_id) REFERENCES users (id),
    ADD FOREIGN KEY (user_id, chatbot_id) REFERENCES chatbots (user_id, id);
ALTER TABLE messages ADD FOREIGN KEY (user_id) REFERENCES users (id),
    ADD FOREIGN KEY (user_id, chatbot_id) REFERENCES chatbots (user_id, id);
ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id),
    ADD FOREIGN KEY (user_id, chatbot_id) REFERENCES chatbots (user_id, id);
ALTER TABLE campaigns ADD FOREIGN KEY (user_id) REFERENCES users (id),
    ADD FOREIGN KEY (user_id, chatbot_id) REFERENCES chatbots (user_id, id);
ALTER TABLE campaign_subscribers ADD FOREIGN KEY (user_id) REFERENCES users (id);

\echo PHASE 5
ALTER TABLE contacts ALTER COLUMN user_id SET NOT NULL, ALTER COLUMN chatbot_id SET NOT NULL;
ALTER TABLE messages ALTER COLUMN user_id SET NOT NULL, ALTER COLUMN chatbot_id SET NOT NULL;
ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL, ALTER COLUMN chatbot_id SET NOT NULL;
ALTER TABLE campaigns ALTER COLUMN user_id SET NOT NULL, ALTER COLUMN chatbot_id SET NOT NULL;
ALTER TABLE campaign_subscribers ALTER COLUMN user_id SET NOT NULL;

ALTER TABLE contacts DROP CONSTRAINT contacts_phone_number_key;
ALTER TABLE contacts DROP CONSTRAINT contacts_thread_id_key;
ALTER TABLE contacts ADD CONSTRAINT unique_contact_per_user UNIQUE (user_id, phone_number);
ALTER TABLE contacts ADD CONSTRAINT unique_thread_per_user UNIQUE (user_id, thread_id);
CREATE INDEX idx_contacts_phone_number ON contacts (phone_number);
CREATE INDEX idx_contacts_thread_id ON contacts (thread_id);

ALTER TABLE contacts ADD CONSTRAINT contacts_user_id_id_key UNIQUE (user_id, id);
ALTER TABLE messages ADD CONSTRAINT messages_user_id_id_key UNIQUE (user_id, id);
ALTER TABLE orders ADD CONSTRAINT orders_user_id_id_key UNIQUE (user_id, id);
ALTER TABLE campaigns ADD CONSTRAINT campaigns_user_id_id_key UNIQUE (user_id, id);
-- Swapping a foreign key locks the table it references too. In one transaction, all locks first, in the order
-- the app's INSERTs take theirs (the referencing table, then the one it references): statement by statement,
-- an INSERT into messages waiting on contacts and this script waiting on messages deadlock.
BEGIN;
LOCK TABLE orders, campaign_subscribers, messages, campaigns, contacts IN ACCESS EXCLUSIVE MODE;
ALTER TABLE messages DROP CONSTRAINT messages_contact_id_fkey,
    ADD FOREIGN KEY (user_id, contact_id) REFERENCES contacts (user_id, id);
ALTER TABLE orders DROP CONSTRAINT orders_contact_id_fkey, DROP CONSTRAINT orders_message_id_fkey,
    ADD FOREIGN KEY (user_id, contact_id) REFERENCES contacts (user_id, id),
    ADD FOREIGN KEY (user_id, message_id) REFERENCES messages (user_id, id);
ALTER TABLE campaign_subscribers DROP CONSTRAINT campaign_subscribers_campaign_id_fkey,
    DROP CONSTRAINT campaign_subscribers_contact_id_fkey,
    ADD FOREIGN KEY (user_id, campaign_id) REFERENCES campaigns (user_id, id),
    ADD FOREIGN KEY (user_id, contact_id) REFERENCES contacts (user_id, id);
COMMIT;

\echo PHASE 6
\ir parts/6_supporting_tables.sql

\echo PHASE 7
-- the indexes tenant-migrate builds: the plan's, less those phase 5's keys already cover
CREATE INDEX idx_messages_sent_at ON messages (sent_at);
CREATE INDEX idx_actions_status ON actions (status);
CREATE INDEX idx_analytics_events_user_type ON analytics_events (user_id, event_type);
CREATE INDEX idx_contacts_chatbot_id ON contacts (chatbot_id);
CREATE INDEX idx_messages_chatbot_id ON messages (chatbot_id);
CREATE INDEX idx_orders_chatbot_id ON orders (chatbot_id);
CREATE INDEX idx_actions_user_status ON actions (user_id, status);
CREATE INDEX idx_chatbots_user_active ON chatbots (user_id, is_active);
CREATE INDEX idx_orders_user_status_created ON orders (user_id, status, created_at);

\echo PHASE end
