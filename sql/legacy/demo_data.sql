-- legacy / demo_data
-- Deterministic synthetic data for the legacy schema, generated server-side.
-- Requires: legacy/schema.sql on an empty database, and the setting demo.scale (a positive number):
--   scale 1 = 10k contacts, 100k messages, 10k orders, 50 campaigns, 50k campaign subscribers.

INSERT INTO contacts (id, phone_number, thread_id, name, contact_status, conversation_paused, created_at, updated_at)
SELECT i,
       (ARRAY['+1', '+44', '+49', '+55', '+91', '+234'])[1 + i % 6] || (7000000000 + i)::text,
       CASE WHEN i % 10 = 0 THEN NULL ELSE md5('thread-' || i)::uuid::text END,
       (ARRAY['María José', 'Chen Wei', 'Ahmed Ali', 'Zoë Müller', 'Oluwaseun Adeyemi', 'Priya Sharma',
              'João Silva', 'Ирина Петрова', '佐藤 花子', 'Liam O''Brien'])[1 + i % 10] || ' ' || i,
       (ARRAY['active', 'active', 'active', 'inactive', 'blocked'])[1 + i % 5],
       i % 17 = 0,
       timestamptz '2025-01-01 00:00:00+00' + make_interval(secs => (i::bigint * 7919) % 31536000),
       timestamptz '2025-01-01 00:00:00+00' + make_interval(secs => (i::bigint * 7919) % 31536000 + 3600)
FROM generate_series(1, (10000 * current_setting('demo.scale')::numeric)::int) AS i;

INSERT INTO messages (id, contact_id, message_id, direction, message_type, content_text, content_url, status, sent_at, metadata)
SELECT i,
       1 + (i::bigint * 7) % ((10000 * current_setting('demo.scale')::numeric)::int),
       'wamid.' || md5('msg-' || i),
       CASE WHEN i % 2 = 0 THEN 'incoming' ELSE 'outgoing' END,
       (ARRAY['text', 'text', 'text', 'text', 'image', 'audio', 'document', 'location'])[1 + i % 8],
       (ARRAY['Hola, ¿tienen envío hoy? 🚚', 'Your order is confirmed ✅', 'Can I change my address?',
              'Obrigado! 🙏', 'Preis bitte? 💶', 'नमस्ते, मुझे मदद चाहिए', 'Thanks 👍👍',
              '请问营业时间？', 'Where is my parcel 📦?', 'OK'])[1 + i % 10],
       CASE WHEN i % 8 IN (4, 5, 6) THEN 'https://media.example.invalid/' || md5('media-' || i) END,
       (ARRAY['delivered', 'read', 'sent', 'delivered', 'failed', 'read'])[1 + i % 6],
       timestamptz '2025-01-01 00:00:00+00' + make_interval(secs => (i::bigint * 104729) % 31536000),
       jsonb_build_object('source', 'whatsapp', 'seq', i)
FROM generate_series(1, (100000 * current_setting('demo.scale')::numeric)::int) AS i;

INSERT INTO orders (id, contact_id, message_id, order_details, status, created_at, updated_at)
SELECT i,
       1 + (i::bigint * 13) % ((10000 * current_setting('demo.scale')::numeric)::int),
       1 + (i::bigint * 31) % ((100000 * current_setting('demo.scale')::numeric)::int),
       jsonb_build_object('items', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (i % 97), 'qty', 1 + i % 3)),
                          'total', round(((i % 500) + 9.99)::numeric, 2), 'currency', 'USD'),
       (ARRAY['pending', 'confirmed', 'shipped', 'delivered', 'cancelled'])[1 + i % 5],
       timestamptz '2025-01-01 00:00:00+00' + make_interval(secs => (i::bigint * 6151) % 31536000),
       timestamptz '2025-01-01 00:00:00+00' + make_interval(secs => (i::bigint * 6151) % 31536000 + 600)
FROM generate_series(1, (10000 * current_setting('demo.scale')::numeric)::int) AS i;

INSERT INTO campaigns (id, name, message_template, status, created_at, updated_at)
SELECT i,
       'Campaign ' || i || (ARRAY[' 🎉', ' — rebajas', ' · Black Friday', ''])[1 + i % 4],
       'Hi {{name}}, ' || (ARRAY['our sale starts today! 🛍️', 'your cart is waiting', 'new arrivals ✨'])[1 + i % 3],
       (ARRAY['draft', 'scheduled', 'running', 'completed'])[1 + i % 4],
       timestamptz '2025-01-01 00:00:00+00' + make_interval(days => i % 365),
       timestamptz '2025-01-01 00:00:00+00' + make_interval(days => i % 365)
FROM generate_series(1, greatest(1, (50 * current_setting('demo.scale')::numeric)::int)) AS i;

INSERT INTO campaign_subscribers (id, campaign_id, contact_id, status, subscribed_at)
SELECT i + 1,
       1 + i % n.campaigns,
       1 + i / n.campaigns,
       (ARRAY['subscribed', 'subscribed', 'subscribed', 'unsubscribed'])[1 + i % 4],
       timestamptz '2025-01-01 00:00:00+00' + make_interval(secs => (i::bigint * 3571) % 31536000)
FROM (SELECT greatest(1, (50 * current_setting('demo.scale')::numeric)::int) AS campaigns,
             (10000 * current_setting('demo.scale')::numeric)::int AS contacts) AS n,
     generate_series(0, least((50000 * current_setting('demo.scale')::numeric)::int,
                              n.campaigns::bigint * n.contacts) - 1) AS i;

SELECT setval(pg_get_serial_sequence('contacts', 'id'), (SELECT max(id) FROM contacts));
SELECT setval(pg_get_serial_sequence('messages', 'id'), (SELECT max(id) FROM messages));
SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders));
SELECT setval(pg_get_serial_sequence('campaigns', 'id'), (SELECT max(id) FROM campaigns));
SELECT setval(pg_get_serial_sequence('campaign_subscribers', 'id'), (SELECT max(id) FROM campaign_subscribers));
ANALYZE contacts, messages, orders, campaigns, campaign_subscribers;
