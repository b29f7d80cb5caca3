-- expectations / shared / existing_rows_on_tenant_1
-- rows that existed before phase 4 all belong to user 1 / chatbot 1
WITH p AS (SELECT * FROM {batch} AS batch),
snap AS (SELECT c.table_name, c.row_count, c.max_id FROM tenant_migrate.row_counts AS c
  WHERE c.run_id = (SELECT max(r.id) FROM tenant_migrate.phase_runs AS r
    WHERE r.phase = 4 AND r.direction = 'up'
      AND EXISTS (SELECT 1 FROM tenant_migrate.row_counts AS x WHERE x.run_id = r.id)))
SELECT 'contacts' AS table_name, count(*) AS wrong_rows FROM public.contacts AS t JOIN snap AS s ON s.table_name = 'contacts'
  WHERE t.id <= s.max_id AND (t.user_id IS DISTINCT FROM 1 OR t.chatbot_id IS DISTINCT FROM 1) HAVING count(*) > 0 UNION ALL
SELECT 'messages', count(*) FROM public.messages AS t JOIN snap AS s ON s.table_name = 'messages'
  WHERE t.id <= s.max_id AND (t.user_id IS DISTINCT FROM 1 OR t.chatbot_id IS DISTINCT FROM 1) HAVING count(*) > 0 UNION ALL
SELECT 'orders', count(*) FROM public.orders AS t JOIN snap AS s ON s.table_name = 'orders'
  WHERE t.id <= s.max_id AND (t.user_id IS DISTINCT FROM 1 OR t.chatbot_id IS DISTINCT FROM 1) HAVING count(*) > 0 UNION ALL
SELECT 'campaigns', count(*) FROM public.campaigns AS t JOIN snap AS s ON s.table_name = 'campaigns'
  WHERE t.id <= s.max_id AND (t.user_id IS DISTINCT FROM 1 OR t.chatbot_id IS DISTINCT FROM 1) HAVING count(*) > 0
UNION ALL
SELECT 'no phase 4 snapshot in tenant_migrate.row_counts', NULL FROM p WHERE NOT EXISTS (SELECT 1 FROM snap)
