-- 05_update_constraints / up / 06_unique_thread_per_user_index
-- Requires: 04_backfill_tenant_ids (user_id NOT NULL)
-- mode: generated
-- The per-tenant unique key on thread_id, in the shape of the app's own (tenant_migrate.tenant_uniques: its
-- predicate, expressions and options kept, user_id first; UNIQUE (user_id, thread_id) when the app has none).
-- Built CONCURRENTLY (SHARE UPDATE EXCLUSIVE: reads and writes continue); step 07 attaches it where it can be a
-- constraint. A key of the app's that cannot be converted (the check refuses it first) fails the step instead.

SELECT CASE WHEN u.why IS NULL THEN u.statement
            ELSE format('DO $guard$ BEGIN RAISE EXCEPTION %L; END $guard$',
                        format('unique %s on contacts: %s', u.index_name, u.why)) END AS statement,
       CASE WHEN u.index_name IS NOT NULL AND u.why IS NULL
           THEN format('%s: per tenant, in the shape of the app''s %s', u.key_name, u.index_name) END AS note
FROM tenant_migrate.tenant_uniques AS u
WHERE u.column_name = 'thread_id';
