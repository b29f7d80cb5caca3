-- zoo / 07_views_and_functions: a reporting view over contacts and messages (security_invoker, so that it obeys
-- row-level security), and a function the app calls. Both stay as they are, and keep working.
-- expect: migrates
CREATE VIEW contact_activity WITH (security_invoker = true) AS
SELECT c.id, c.phone_number, count(m.id) AS messages, max(m.sent_at) AS last_message
FROM contacts AS c LEFT JOIN messages AS m ON m.contact_id = c.id GROUP BY c.id, c.phone_number;
CREATE FUNCTION messages_of(contact integer) RETURNS bigint LANGUAGE sql STABLE AS
$$ SELECT count(*) FROM messages WHERE contact_id = contact $$;
