-- One row of tenant %(user_id)s in each supporting table that only the platform writes (a tenant role may read
-- them, not write them: phase 8): its usage today, its monthly summary, an API key of hash %(api_key_hash)s (claimed
-- first on a Citus cluster: claim_api_key.sql).
-- Unique keys get random values, or the row is skipped when the tenant has one already.
WITH usage AS (
    INSERT INTO public.usage_tracking (user_id, tracking_date, daily_messages_received)
    VALUES (%(user_id)s, current_date, 1)
    ON CONFLICT DO NOTHING
    RETURNING 1
),
monthly AS (
    INSERT INTO public.monthly_usage_summary (user_id, year, month, total_messages)
    VALUES (%(user_id)s, extract(year FROM current_date)::int, extract(month FROM current_date)::int, 1)
    ON CONFLICT DO NOTHING
    RETURNING 1
),
api_keys AS (
    INSERT INTO public.api_keys (user_id, key_name, api_key_hash)
    VALUES (%(user_id)s, 'checklist sample', %(api_key_hash)s)
    RETURNING 1
)
SELECT (SELECT count(*) FROM usage) + (SELECT count(*) FROM monthly) + (SELECT count(*) FROM api_keys) AS rows_written
