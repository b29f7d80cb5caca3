-- The Actions Center: the bot asks its owner to decide; the owner's queue is read by (user_id, status).
WITH requested AS (
    INSERT INTO public.actions (user_id, chatbot_id, contact_id, request_type, request_details, context_data)
    VALUES (%(user_id)s, %(chatbot_id)s, %(contact_id)s, 'discount', 'customer asks for 10%%', '{"order": null}')
    RETURNING id, user_id, status
)
SELECT id FROM requested WHERE status = 'pending'
