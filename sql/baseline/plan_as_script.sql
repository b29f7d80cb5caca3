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
-- - phase 5 makes chatbot_id NOT NULL too (the plan's objective; its SQL shows user_id only).
-- Each phase starts with `\echo PHASE n`: the benchmark timestamps these lines as psql prints them.

\echo PHASE 1
\ir ../01_create_core_tables/up/01_users.sql
\ir ../01_create_core_tables/up/02_user_subscriptions.sql
\ir ../01_create_core_tables/up/03_chatbots.sql

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
INSERT INTO users (id, email, full_name, company_name, is_active)
VALUES (1, 'admin@swiftreplies.ai', 'Admin User', 'SwiftReplies Admin', true);

INSERT INTO user_subscriptions (
    user_id, subscription_name, subscription_config,
    daily_message_limit, monthly_message_limit,
    daily_campaign_limit, monthly_campaign_limit,
    contract_start_date, is_active
) VALUES (
    1, 'Admin Unlimited Plan',
    '{"features": {"all": true}, "limits": {"unlimited": true}}'::jsonb,
    999999, 999999, 999999, 999999,
    CURRENT_DATE, true
);

INSERT INTO chatbots (id, user_id, name, whatsapp_phone_number, general_instructions, is_active)
VALUES (1, 1, 'Default Admin Bot', 'YOUR_WHATSAPP_NUMBER', 'Admin testing bot', true);

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

\echo PHASE 6
\ir ../06_create_supporting_tables/up/01_actions.sql
\ir ../06_create_supporting_tables/up/02_order_items.sql
\ir ../06_create_supporting_tables/up/03_products.sql
\ir ../06_create_supporting_tables/up/04_usage_tracking.sql
\ir ../06_create_supporting_tables/up/05_monthly_usage_summary.sql
\ir ../06_create_supporting_tables/up/06_analytics_events.sql
\ir ../06_create_supporting_tables/up/07_api_keys.sql
\ir ../06_create_supporting_tables/up/08_webhooks.sql
\ir ../06_create_supporting_tables/up/09_bot_knowledge_base.sql
\ir ../06_create_supporting_tables/up/10_conversation_instructions.sql

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
