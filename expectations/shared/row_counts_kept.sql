-- expectations / shared / row_counts_kept
-- no legacy table lost rows against the snapshot taken before this phase. The flow's count just before this check
-- (parameter `counted`: one count per phase, shown at the gate) is of the rows with an id up to the snapshot's max
-- id, so rows a live writer added since cannot hide rows the phase lost; without it, every row is counted here
WITH p AS (SELECT * FROM {batch} AS batch),
snap AS (SELECT c.table_name, c.row_count, c.max_id FROM tenant_migrate.row_counts AS c
  WHERE c.run_id = (SELECT max(r.id) FROM tenant_migrate.phase_runs AS r
    WHERE r.phase = (SELECT phase FROM p) AND r.direction = 'up'
      AND EXISTS (SELECT 1 FROM tenant_migrate.row_counts AS x WHERE x.run_id = r.id))),
given AS (SELECT g.key AS table_name, g.value::bigint AS n FROM p CROSS JOIN jsonb_each_text(p.counted) AS g),
live AS (
  SELECT table_name, n FROM given UNION ALL
  SELECT w.table_name, w.n FROM (
    SELECT 'contacts' AS table_name, count(*) AS n FROM public.contacts UNION ALL
    SELECT 'messages', count(*) FROM public.messages UNION ALL
    SELECT 'orders', count(*) FROM public.orders UNION ALL
    SELECT 'campaigns', count(*) FROM public.campaigns UNION ALL
    SELECT 'campaign_subscribers', count(*) FROM public.campaign_subscribers
  ) AS w WHERE (SELECT p.counted IS NULL FROM p)
)
SELECT coalesce(s.table_name, 'no snapshot for this phase in tenant_migrate.row_counts') AS table_name,
       s.row_count AS snapshot_rows, l.n AS live_rows
FROM p LEFT JOIN snap AS s ON true LEFT JOIN live AS l ON l.table_name = s.table_name
WHERE s.table_name IS NULL OR l.n IS NULL OR l.n < s.row_count
