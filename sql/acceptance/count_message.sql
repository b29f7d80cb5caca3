-- The backend counts an inbound message in today's usage row of its tenant, through the function that may write
-- the counters (a tenant role may only read them: phase 8).
SELECT public.count_usage('daily_messages_received') AS daily_messages_received
