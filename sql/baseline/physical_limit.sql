-- baseline / physical_limit
-- What a perfect hand-written script would cost: the plan's phases 1-7 with the cheapest statements that reach
-- the same schema, no orchestration (no ledger, no lock_timeout, no retries, no validation, no CONCURRENTLY).
-- The tenant columns come with DEFAULT 1 (catalog only: no UPDATE, no rewrite), foreign keys and NOT NULL are
-- added plainly (one scan each, under their lock), indexes are built plainly. It exists only as the "physical
-- limit" run of benchmarks/online_migration.py; the migration never runs it. It locks the live app out while
-- it scans and builds: the benchmark shows how long.
-- Each phase starts with `\echo PHASE n`: the benchmark timestamps these lines as psql prints them.

\echo PHASE 1
\ir ../01_create_core_tables/up/01_users.sql
\ir ../01_create_core_tables/up/02_user_subscriptions.sql
\ir ../01_create_core_tables/up/03_chatbots.sql

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
ALTER TABLE contacts ADD FOREIGN KEY (user_id) REFERENCES users (id), ADD FOREIGN KEY (chatbot_id) REFERENCES chatbots (id);
ALTER TABLE messages ADD FOREIGN KEY (user_id) REFERENCES users (id), ADD FOREIGN KEY (chatbot_id) REFERENCES chatbots (id);
ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id), ADD FOREIGN KEY (chatbot_id) REFERENCES chatbots (id);
ALTER TABLE campaigns ADD FOREIGN KEY (user_id) REFERENCES users (id), ADD FOREIGN KEY (chatbot_id) REFERENCES chatbots (id);

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
