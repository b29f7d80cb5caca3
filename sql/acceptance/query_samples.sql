-- %(n)s random contacts of tenant %(user_id)s (the first one at or after a random id), with an order status. Every
-- table is read for that tenant only: on a Citus cluster the whole query goes to the tenant's shard.
SELECT c.id AS contact_id, c.phone_number, coalesce(o.status, 'pending') AS status
FROM generate_series(1, %(n)s) AS g
CROSS JOIN LATERAL (
    SELECT id, phone_number FROM public.contacts
    WHERE user_id = %(user_id)s
        AND id >= (SELECT min(id) + floor(random() * (max(id) - min(id) + 1)) FROM public.contacts
                   WHERE user_id = %(user_id)s) + g * 0
    ORDER BY id
    LIMIT 1
) AS c
LEFT JOIN LATERAL (SELECT status FROM public.orders WHERE user_id = %(user_id)s AND contact_id = c.id LIMIT 1) AS o
    ON true
