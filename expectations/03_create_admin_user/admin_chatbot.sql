-- expectations / 03_create_admin_user / admin_chatbot
-- chatbot id 1 exists and belongs to user 1
WITH p AS (SELECT * FROM {batch} AS batch)
SELECT b.id, b.user_id FROM p LEFT JOIN public.chatbots AS b ON b.id = 1
WHERE b.id IS NULL OR b.user_id IS DISTINCT FROM 1
