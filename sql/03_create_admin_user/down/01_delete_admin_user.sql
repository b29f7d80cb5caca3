-- 03_create_admin_user / down / 01_delete_admin_user
-- Requires: 04_backfill_tenant_ids rolled back (the tenant FKs are ON DELETE NO ACTION: this fails,
-- and deletes nothing, while any legacy row still points at user 1 or chatbot 1)
-- mode: transaction
-- Deletes the admin rows by id, then puts each identity back where it was: fresh (next id 1) when
-- its table is empty again, else just past max(id). Touches only the new tables.

DELETE FROM chatbots WHERE id = 1;
DELETE FROM user_subscriptions WHERE id = 1;
DELETE FROM users WHERE id = 1;

SELECT setval(seq, coalesce(max_id, 1), max_id IS NOT NULL)
FROM (VALUES
    (pg_get_serial_sequence('public.users', 'id')::regclass, (SELECT max(id) FROM users)),
    (pg_get_serial_sequence('public.user_subscriptions', 'id')::regclass, (SELECT max(id) FROM user_subscriptions)),
    (pg_get_serial_sequence('public.chatbots', 'id')::regclass, (SELECT max(id) FROM chatbots))
) AS s (seq, max_id);
