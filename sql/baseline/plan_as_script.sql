-- baseline / plan_as_script
-- The migration plan (shared/seed/migration-strategy.md) phases 1-7 as one plain script, the way a
-- DBA would run it without tenant-migrate: `psql -v ON_ERROR_STOP=1 -f plan_as_script.sql`, each
-- statement in its own transaction, no lock_timeout, no batching, no CONCURRENTLY. It exists only as the
-- baseline of benchmarks/online_migration.py; the migration never runs it.
-- The plan's own SQL is used as written (phase 3 inserts, phase 4 UPDATEs, phase 5 constraints, phase 7
-- indexes). What the plan leaves out is completed the obvious way:
-- - phases 1 and 6 name tables only: their columns are those of TARGET-SCHEMA.md, i.e. the same
--   CREATE TABLE files tenant-migrate runs (new, empty tables: no online technique involved);
-- - phase 2 adds the tenant columns with inline REFERENCES and the enhanced columns by plain ALTER TABLE;
-- - phase 4 sets DEFAULT 1 first: without it, rows the live app inserts after the UPDATE keep a NULL
--   user_id and phase 5's SET NOT NULL fails;
-- - phase 5 makes chatbot_id NOT NULL too (the plan's objective; its SQL shows user_id only), and adds
--   UNIQUE (user_id, id) to contacts and orders, which phase 6's tables reference.
-- Each phase starts with `\echo PHASE n`: the benchmark timestamps these lines as psql prints them.

\echo PHASE 1
\ir parts/1_core_tables.sql

\echo PHASE 2
ALTER TABLE contacts
    ADD COLUMN user_id bigint REFERENCES users (id),
    ADD COLUMN chatbot_id bigint REFERENCES chatbots (id),
    ADD COLUMN tags jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN custom_fields jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN last_interaction timestamptz,
    ADD COLUMN email text,
    ADD COLUMN language text,
    ADD COLUMN opted_in boolean,
    ADD COLUMN opted_in_at timestamptz;
ALTER TABLE messages
    ADD COLUMN user_id bigint REFERENCES users (id),
    ADD COLUMN chatbot_id bigint REFERENCES chatbots (id),
    ADD COLUMN is_from_human boolean NOT NULL DEFAULT false;
ALTER TABLE orders
    ADD COLUMN user_id bigint REFERENCES users (id),
    ADD COLUMN chatbot_id bigint REFERENCES chatbots (id),
    ADD COLUMN order_number text UNIQUE,
    ADD COLUMN total_amount numeric(12, 2),
    ADD COLUMN currency text NOT NULL DEFAULT 'USD',
    ADD COLUMN payment_status text NOT NULL DEFAULT 'pending';
ALTER TABLE campaigns
    ADD COLUMN user_id bigint REFERENCES users (id),
    ADD COLUMN chatbot_id bigint REFERENCES chatbots (id),
    ADD COLUMN target_criteria jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN scheduled_at timestamptz;

\echo PHASE 3
\ir parts/3_admin_user.sql

\echo PHASE 4
ALTER TABLE contacts ALTER COLUMN user_id SET DEFAULT 1, ALTER COLUMN chatbot_id SET DEFAULT 1;
ALTER TABLE messages ALTER COLUMN user_id SET DEFAULT 1, ALTER COLUMN chatbot_id SET DEFAULT 1;
ALTER TABLE orders ALTER COLUMN user_id SET DEFAULT 1, ALTER COLUMN chatbot_id SET DEFAULT 1;
ALTER TABLE campaigns ALTER COLUMN user_id SET DEFAULT 1, ALTER COLUMN chatbot_id SET DEFAULT 1;
UPDATE contacts SET user_id = 1, chatbot_id = 1 WHERE user_id IS NULL;
UPDATE messages SET user_id = 1, chatbot_id = 1 WHERE user_id IS NULL;
UPDATE orders SET user_id = 1, chatbot_id = 1 WHERE user_id IS NULL;
UPDATE campaigns SET user_id = 1, chatbot_id = 1 WHERE user_id IS NULL;

\echo PHASE 5
ALTER TABLE contacts ALTER COLUMN user_id SET NOT NULL, ALTER COLUMN chatbot_id SET NOT NULL;
ALTER TABLE messages ALTER COLUMN user_id SET NOT NULL, ALTER COLUMN chatbot_id SET NOT NULL;
ALTER TABLE orders ALTER COLUMN user_id SET NOT NULL, ALTER COLUMN chatbot_id SET NOT NULL;
ALTER TABLE campaigns ALTER COLUMN user_id SET NOT NULL, ALTER COLUMN chatbot_id SET NOT NULL;

ALTER TABLE contacts DROP CONSTRAINT contacts_phone_number_key;
ALTER TABLE contacts DROP CONSTRAINT contacts_thread_id_key;

ALTER TABLE contacts ADD CONSTRAINT unique_contact_per_user UNIQUE (user_id, phone_number);
ALTER TABLE contacts ADD CONSTRAINT unique_thread_per_user UNIQUE (user_id, thread_id);
ALTER TABLE contacts ADD CONSTRAINT contacts_user_id_id_key UNIQUE (user_id, id);
ALTER TABLE orders ADD CONSTRAINT orders_user_id_id_key UNIQUE (user_id, id);

\echo PHASE 6
\ir parts/6_supporting_tables.sql

\echo PHASE 7
CREATE INDEX idx_contacts_user_id ON contacts (user_id);
CREATE INDEX idx_messages_user_id ON messages (user_id);
CREATE INDEX idx_orders_user_id ON orders (user_id);
CREATE INDEX idx_campaigns_user_id ON campaigns (user_id);
CREATE INDEX idx_actions_user_id ON actions (user_id);

CREATE INDEX idx_contacts_user_phone ON contacts (user_id, phone_number);
CREATE INDEX idx_contacts_user_thread ON contacts (user_id, thread_id);
CREATE INDEX idx_usage_tracking_user_date ON usage_tracking (user_id, tracking_date);

CREATE INDEX idx_messages_sent_at ON messages (sent_at);
CREATE INDEX idx_actions_status ON actions (status);
CREATE INDEX idx_analytics_events_user_type ON analytics_events (user_id, event_type);

\echo PHASE end
