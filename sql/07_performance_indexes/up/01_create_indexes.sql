-- 07_performance_indexes / up / 01_create_indexes
-- Requires: 06_create_supporting_tables
-- mode: generated
-- The plan's Phase 7 indexes plus the architecture's (TARGET-SCHEMA.md), each built with
-- CREATE INDEX CONCURRENTLY IF NOT EXISTS (SHARE UPDATE EXCLUSIVE: reads and writes continue), one
-- statement at a time outside a transaction. An index is skipped, with a note, when it is covered:
-- - by an existing valid, non-partial btree index of the table whose leading key columns equal its
--   columns (e.g. idx_contacts_user_phone by the unique constraint unique_contact_per_user), or
-- - by a longer index of this same list that starts with its columns (idx_actions_user_id by
--   idx_actions_user_status), which is then built or itself covered.
-- Re-running builds only what is missing (an index of the list's own name never counts as cover).

WITH wanted (ord, index_name, table_name, columns) AS (
    VALUES
        -- the plan's list
        (1, 'idx_contacts_user_id', 'contacts', ARRAY['user_id']),
        (2, 'idx_messages_user_id', 'messages', ARRAY['user_id']),
        (3, 'idx_orders_user_id', 'orders', ARRAY['user_id']),
        (4, 'idx_campaigns_user_id', 'campaigns', ARRAY['user_id']),
        (5, 'idx_actions_user_id', 'actions', ARRAY['user_id']),
        (6, 'idx_contacts_user_phone', 'contacts', ARRAY['user_id', 'phone_number']),
        (7, 'idx_contacts_user_thread', 'contacts', ARRAY['user_id', 'thread_id']),
        (8, 'idx_usage_tracking_user_date', 'usage_tracking', ARRAY['user_id', 'tracking_date']),
        (9, 'idx_messages_sent_at', 'messages', ARRAY['sent_at']),
        (10, 'idx_actions_status', 'actions', ARRAY['status']),
        (11, 'idx_analytics_events_user_type', 'analytics_events', ARRAY['user_id', 'event_type']),
        -- the architecture document's additions
        (12, 'idx_contacts_chatbot_id', 'contacts', ARRAY['chatbot_id']),
        (13, 'idx_messages_chatbot_id', 'messages', ARRAY['chatbot_id']),
        (14, 'idx_orders_chatbot_id', 'orders', ARRAY['chatbot_id']),
        (15, 'idx_actions_user_status', 'actions', ARRAY['user_id', 'status']),
        (16, 'idx_chatbots_user_active', 'chatbots', ARRAY['user_id', 'is_active']),
        -- the phase-8 checklist's query "a tenant's orders by status, newest first" (tasks/checklist.py)
        (17, 'idx_orders_user_status_created', 'orders', ARRAY['user_id', 'status', 'created_at'])
),
existing AS (
    -- Key columns of each valid, non-partial btree index of the public schema, in order; an
    -- expression column (attnum 0) reads as NULL, which equals no column name.
    SELECT t.relname AS table_name, i.relname AS index_name,
           array(
               SELECT a.attname::text
               FROM unnest(string_to_array(x.indkey::text, ' ')::int2[]) WITH ORDINALITY AS k (attnum, pos)
               LEFT JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
               WHERE k.pos <= x.indnkeyatts
               ORDER BY k.pos
           ) AS columns
    FROM pg_index AS x
    JOIN pg_class AS i ON i.oid = x.indexrelid
    JOIN pg_class AS t ON t.oid = x.indrelid
    JOIN pg_namespace AS n ON n.oid = t.relnamespace
    JOIN pg_am AS am ON am.oid = i.relam
    WHERE n.nspname = 'public' AND x.indisvalid AND x.indpred IS NULL AND am.amname = 'btree'
),
decided AS (
    SELECT w.*,
           coalesce(
               (SELECT e.index_name FROM existing AS e
                WHERE e.table_name = w.table_name AND e.index_name <> w.index_name
                    AND e.columns[1:cardinality(w.columns)] = w.columns
                ORDER BY e.index_name LIMIT 1),
               (SELECT o.index_name FROM wanted AS o
                WHERE o.table_name = w.table_name AND cardinality(o.columns) > cardinality(w.columns)
                    AND o.columns[1:cardinality(w.columns)] = w.columns
                ORDER BY o.ord LIMIT 1)
           ) AS covered_by
    FROM wanted AS w
),
-- A partitioned table cannot build an index CONCURRENTLY: its index is made ON ONLY the parent (catalog-only,
-- invalid until complete), each leaf partition's CONCURRENTLY, then attached (brief); once every partition's
-- is attached, the parent's is valid.
built AS (
    SELECT d.*, c.relkind = 'p' AS partitioned,
           (SELECT string_agg(quote_ident(col), ', ' ORDER BY pos)
            FROM unnest(d.columns) WITH ORDINALITY AS u (col, pos)) AS column_list
    FROM decided AS d
    JOIN pg_class AS c ON c.oid = format('public.%I', d.table_name)::regclass
),
statements AS (
    SELECT ord, 0 AS sub, '' AS part,
           CASE WHEN covered_by IS NULL AND NOT partitioned THEN
               format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON public.%I (%s)', index_name, table_name, column_list)
           WHEN covered_by IS NULL THEN
               format('CREATE INDEX IF NOT EXISTS %I ON ONLY public.%I (%s)', index_name, table_name, column_list)
           END AS statement,
           CASE WHEN covered_by IS NOT NULL THEN format('skipped %s: covered by %s', index_name, covered_by) END
               AS note
    FROM built
    UNION ALL
    SELECT b.ord, s.sub, p.relname,
           CASE s.sub
               WHEN 1 THEN format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON public.%I (%s)',
                                  left(b.index_name || '_' || p.relname, 63), p.relname, b.column_list)
               ELSE format('ALTER INDEX public.%I ATTACH PARTITION public.%I', b.index_name,
                           left(b.index_name || '_' || p.relname, 63))
           END,
           NULL
    FROM built AS b
    CROSS JOIN LATERAL (SELECT t.relid FROM pg_partition_tree(format('public.%I', b.table_name)::regclass) AS t
                        WHERE t.isleaf) AS leaf
    JOIN pg_class AS p ON p.oid = leaf.relid
    CROSS JOIN (VALUES (1), (2)) AS s (sub)
    WHERE b.covered_by IS NULL AND b.partitioned
        -- a partition index already attached to the parent's needs nothing more
        AND NOT EXISTS (SELECT 1 FROM pg_inherits AS i JOIN pg_class AS pi ON pi.oid = i.inhrelid
                        WHERE i.inhparent = to_regclass(format('public.%I', b.index_name))
                            AND pi.relname = left(b.index_name || '_' || p.relname, 63))
)
SELECT statement, note FROM statements ORDER BY ord, sub, part;
