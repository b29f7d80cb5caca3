-- One row of tenant %(user_id)s (chatbot %(chatbot_id)s) in each supporting table the tenant writes itself,
-- attached to one of its contacts and orders (sample_platform_rows.sql: the others). Unique keys get random values.
WITH contact AS (
    SELECT id FROM public.contacts WHERE user_id = %(user_id)s ORDER BY id LIMIT 1
),
tenant_order AS (
    SELECT id FROM public.orders WHERE user_id = %(user_id)s ORDER BY id LIMIT 1
),
actions AS (
    INSERT INTO public.actions (user_id, chatbot_id, contact_id, request_type, request_details)
    SELECT %(user_id)s, %(chatbot_id)s, contact.id, 'refund', 'checklist sample' FROM contact
    RETURNING 1
),
order_items AS (
    INSERT INTO public.order_items (user_id, order_id, product_name, quantity, unit_price, total_price)
    SELECT %(user_id)s, tenant_order.id, 'pizza', 2, 9.50, 19.00 FROM tenant_order
    RETURNING 1
),
products AS (
    INSERT INTO public.products (user_id, name, sku, price)
    VALUES (%(user_id)s, 'pizza', 'sku-' || gen_random_uuid(), 9.50)
    RETURNING 1
),
events AS (
    INSERT INTO public.analytics_events (user_id, chatbot_id, contact_id, event_type, event_data)
    SELECT %(user_id)s, %(chatbot_id)s, contact.id, 'checklist_sample', '{"sample": true}' FROM contact
    RETURNING 1
),
webhooks AS (
    INSERT INTO public.webhooks (user_id, chatbot_id, url, events)
    VALUES (%(user_id)s, %(chatbot_id)s, 'https://example.invalid/hook', '["message.received"]')
    RETURNING 1
),
knowledge AS (
    INSERT INTO public.bot_knowledge_base (user_id, chatbot_id, question, answer)
    VALUES (%(user_id)s, %(chatbot_id)s, 'opening hours?', '9 to 5')
    RETURNING 1
),
instructions AS (
    INSERT INTO public.conversation_instructions (user_id, chatbot_id, contact_id, instruction_text)
    SELECT %(user_id)s, %(chatbot_id)s, contact.id, 'be brief' FROM contact
    RETURNING 1
)
SELECT (SELECT count(*) FROM actions) + (SELECT count(*) FROM order_items) + (SELECT count(*) FROM products)
       + (SELECT count(*) FROM events) + (SELECT count(*) FROM webhooks) + (SELECT count(*) FROM knowledge)
       + (SELECT count(*) FROM instructions) AS rows_written
