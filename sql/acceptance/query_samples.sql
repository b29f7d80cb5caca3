-- %(n)s random contacts of tenant %(user_id)s, with an order status. Whatever the type of the key (integer, bigint or
-- uuid: no arithmetic on ids). Every table is read for that tenant only: on a Citus cluster the whole query goes to
-- the tenant's shard.
SELECT c.id AS contact_id, c.phone_number, coalesce(o.status, 'pending') AS status
FROM (
    SELECT id, phone_number FROM public.contacts
    WHERE user_id = %(user_id)s
    ORDER BY random()
    LIMIT %(n)s
) AS c
LEFT JOIN LATERAL (SELECT status FROM public.orders WHERE user_id = %(user_id)s AND contact_id = c.id LIMIT 1) AS o
    ON true
