-- baseline / parts / 1_core_tables
-- Phase 1: the core tables, the same CREATE TABLE files tenant-migrate runs.
-- Included (psql \ir) by plan_as_script.sql and physical_limit.sql.

\ir ../../01_create_core_tables/up/01_users.sql
\ir ../../01_create_core_tables/up/02_user_subscriptions.sql
\ir ../../01_create_core_tables/up/03_chatbots.sql
