-- baseline / parts / 6_supporting_tables
-- Phase 6: the supporting tables, the same CREATE TABLE files tenant-migrate runs.
-- Included (psql \ir) by plan_as_script.sql and physical_limit.sql.

\ir ../../06_create_supporting_tables/up/01_actions.sql
\ir ../../06_create_supporting_tables/up/02_order_items.sql
\ir ../../06_create_supporting_tables/up/03_products.sql
\ir ../../06_create_supporting_tables/up/04_usage_tracking.sql
\ir ../../06_create_supporting_tables/up/05_monthly_usage_summary.sql
\ir ../../06_create_supporting_tables/up/06_analytics_events.sql
\ir ../../06_create_supporting_tables/up/07_api_keys.sql
\ir ../../06_create_supporting_tables/up/08_webhooks.sql
\ir ../../06_create_supporting_tables/up/09_bot_knowledge_base.sql
\ir ../../06_create_supporting_tables/up/10_conversation_instructions.sql
