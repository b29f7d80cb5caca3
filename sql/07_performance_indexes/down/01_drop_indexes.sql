-- 07_performance_indexes / down / 01_drop_indexes
-- Requires: 07_performance_indexes (applied or partly applied)
-- mode: generated
-- DROP INDEX CONCURRENTLY IF EXISTS for each index name of up step 01 that exists (SHARE UPDATE
-- EXCLUSIVE: reads and writes continue), one statement at a time outside a transaction.
-- Caveat: it drops by name, so an index that already had one of these names before phase 7 (the
-- up step then skipped it as covered) would go too.

SELECT format('DROP INDEX CONCURRENTLY IF EXISTS public.%I', name) AS statement, NULL AS note
FROM unnest(ARRAY[
    'idx_contacts_user_id', 'idx_messages_user_id', 'idx_orders_user_id', 'idx_campaigns_user_id',
    'idx_actions_user_id', 'idx_contacts_user_phone', 'idx_contacts_user_thread',
    'idx_usage_tracking_user_date', 'idx_messages_sent_at', 'idx_actions_status',
    'idx_analytics_events_user_type', 'idx_contacts_chatbot_id', 'idx_messages_chatbot_id',
    'idx_orders_chatbot_id', 'idx_actions_user_status', 'idx_chatbots_user_active', 'idx_orders_user_status_created'
]) WITH ORDINALITY AS u (name, ord)
WHERE to_regclass(format('public.%I', name)) IS NOT NULL
ORDER BY ord;
