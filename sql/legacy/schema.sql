-- legacy / schema
-- The single-tenant schema of the WhatsApp automation backend, as production has it today.
-- Used by the demo database and the tests; the migration never runs this file.

CREATE TABLE contacts (
    id serial PRIMARY KEY,
    phone_number varchar(32) NOT NULL UNIQUE,
    thread_id varchar(64) UNIQUE,
    name varchar(255),
    contact_status varchar(32) DEFAULT 'active',
    conversation_paused boolean DEFAULT false,
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

CREATE TABLE messages (
    id serial PRIMARY KEY,
    contact_id integer REFERENCES contacts (id),
    message_id varchar(128),
    direction varchar(16) CHECK (direction IN ('incoming', 'outgoing')),
    message_type varchar(32) DEFAULT 'text',
    content_text text,
    content_url text,
    status varchar(32),
    sent_at timestamptz DEFAULT now(),
    metadata jsonb
);
CREATE INDEX messages_contact_id_idx ON messages (contact_id);

CREATE TABLE orders (
    id serial PRIMARY KEY,
    contact_id integer REFERENCES contacts (id),
    message_id integer REFERENCES messages (id),
    order_details jsonb,
    status varchar(32) DEFAULT 'pending',
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

CREATE TABLE campaigns (
    id serial PRIMARY KEY,
    name varchar(255) NOT NULL,
    message_template text,
    status varchar(32) DEFAULT 'draft',
    created_at timestamptz DEFAULT now(),
    updated_at timestamptz DEFAULT now()
);

CREATE TABLE campaign_subscribers (
    id serial PRIMARY KEY,
    campaign_id integer REFERENCES campaigns (id),
    contact_id integer REFERENCES contacts (id),
    status varchar(32) DEFAULT 'subscribed',
    subscribed_at timestamptz DEFAULT now(),
    UNIQUE (campaign_id, contact_id)
);
