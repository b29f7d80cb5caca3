-- zoo / 17_view_running_as_its_owner: a reporting view over contacts and orders without security_invoker. Once
-- phase 8 turns row-level security on, whoever may read the view would see every tenant's rows through it (a view
-- reads its tables as its owner): the check refuses, and says how to fix it.
-- expect: refused
-- refuses: phase 8 view order_summary: reads contacts, orders as its owner, bypassing row-level security: ALTER VIEW order_summary SET \(security_invoker = true\), or drop it
CREATE VIEW order_summary AS
SELECT c.phone_number, count(o.id) AS orders FROM contacts AS c JOIN orders AS o ON o.contact_id = c.id
GROUP BY c.phone_number;
