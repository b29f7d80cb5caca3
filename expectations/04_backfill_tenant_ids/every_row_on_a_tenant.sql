-- expectations / 04_backfill_tenant_ids / every_row_on_a_tenant
-- no row without a tenant, and every row that existed before phase 4 on user 1 / chatbot 1 (campaign_subscribers:
-- user 1): one scan per table computes both (the foreign keys, validated, prove that every tenant id is a real user
-- and chatbot). A row existed before phase 4 when its id is at most the highest id then, compared as numbers (the
-- text of any integer id); a uuid id has no order of insertion: its table has no highest id, and only the first
-- count applies to it (the CASE keeps its id from the cast). The highest id is a scalar subquery, not a join, so
-- that each table's scan can run in parallel workers, and the tenant test comes first, so that only a row off
-- tenant 1 pays for the id's cast (10M messages, warm: 1.5-1.8 s instead of 5.9 s). A table that the flow's count
-- after the phase found wholly on tenant 1 (parameter off_tenant_1: its rows without a tenant or on another, counted in
-- the same scan as its rows) is not scanned again: its counts are 0 (a standalone validation, without it, scans all).
WITH p AS (SELECT * FROM {batch} AS batch),
snap AS (
    SELECT c.table_name, c.max_id FROM tenant_migrate.row_counts AS c
    WHERE c.run_id = (SELECT max(r.id) FROM tenant_migrate.phase_runs AS r
                      WHERE r.phase = 4 AND r.direction = 'up'
                          AND EXISTS (SELECT 1 FROM tenant_migrate.row_counts AS x WHERE x.run_id = r.id))
),
scan AS (
    SELECT 'contacts' AS table_name, count(*) FILTER (WHERE t.user_id IS NULL OR t.chatbot_id IS NULL) AS no_tenant,
           count(*) FILTER (WHERE (t.user_id <> 1 OR t.chatbot_id <> 1)
                                AND CASE WHEN (SELECT s.max_id FROM snap AS s WHERE s.table_name = 'contacts') IS NOT NULL
                                    THEN t.id::text::numeric <= (SELECT s.max_id FROM snap AS s WHERE s.table_name = 'contacts') END) AS not_on_tenant_1
    FROM public.contacts AS t WHERE (SELECT coalesce((p.off_tenant_1 ->> 'contacts')::bigint, 1) > 0 FROM p)
    UNION ALL
    SELECT 'messages', count(*) FILTER (WHERE t.user_id IS NULL OR t.chatbot_id IS NULL),
           count(*) FILTER (WHERE (t.user_id <> 1 OR t.chatbot_id <> 1)
                                AND CASE WHEN (SELECT s.max_id FROM snap AS s WHERE s.table_name = 'messages') IS NOT NULL
                                    THEN t.id::text::numeric <= (SELECT s.max_id FROM snap AS s WHERE s.table_name = 'messages') END)
    FROM public.messages AS t WHERE (SELECT coalesce((p.off_tenant_1 ->> 'messages')::bigint, 1) > 0 FROM p)
    UNION ALL
    SELECT 'orders', count(*) FILTER (WHERE t.user_id IS NULL OR t.chatbot_id IS NULL),
           count(*) FILTER (WHERE (t.user_id <> 1 OR t.chatbot_id <> 1)
                                AND CASE WHEN (SELECT s.max_id FROM snap AS s WHERE s.table_name = 'orders') IS NOT NULL
                                    THEN t.id::text::numeric <= (SELECT s.max_id FROM snap AS s WHERE s.table_name = 'orders') END)
    FROM public.orders AS t WHERE (SELECT coalesce((p.off_tenant_1 ->> 'orders')::bigint, 1) > 0 FROM p)
    UNION ALL
    SELECT 'campaigns', count(*) FILTER (WHERE t.user_id IS NULL OR t.chatbot_id IS NULL),
           count(*) FILTER (WHERE (t.user_id <> 1 OR t.chatbot_id <> 1)
                                AND CASE WHEN (SELECT s.max_id FROM snap AS s WHERE s.table_name = 'campaigns') IS NOT NULL
                                    THEN t.id::text::numeric <= (SELECT s.max_id FROM snap AS s WHERE s.table_name = 'campaigns') END)
    FROM public.campaigns AS t WHERE (SELECT coalesce((p.off_tenant_1 ->> 'campaigns')::bigint, 1) > 0 FROM p)
    UNION ALL
    SELECT 'campaign_subscribers', count(*) FILTER (WHERE t.user_id IS NULL),
           count(*) FILTER (WHERE t.user_id <> 1
                                AND CASE WHEN (SELECT s.max_id FROM snap AS s WHERE s.table_name = 'campaign_subscribers') IS NOT NULL
                                    THEN t.id::text::numeric <= (SELECT s.max_id FROM snap AS s WHERE s.table_name = 'campaign_subscribers') END)
    FROM public.campaign_subscribers AS t WHERE (SELECT coalesce((p.off_tenant_1 ->> 'campaign_subscribers')::bigint, 1) > 0 FROM p)
)
SELECT scan.* FROM p CROSS JOIN scan WHERE scan.no_tenant > 0 OR scan.not_on_tenant_1 > 0
UNION ALL
SELECT 'no phase 4 snapshot in tenant_migrate.row_counts', NULL, NULL FROM p WHERE NOT EXISTS (SELECT 1 FROM snap)
