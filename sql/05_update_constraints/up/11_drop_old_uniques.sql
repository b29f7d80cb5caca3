-- 05_update_constraints / up / 11_drop_old_uniques
-- Requires: 05_update_constraints / up / 10_thread_id_lookup_index
-- mode: generated
-- Drops the app's unique keys on contacts' phone_number / thread_id that steps 05-06 made per tenant
-- (tenant_migrate.tenant_uniques, the same as step 08) and only if step 08 saved them: a constraint by ALTER TABLE
-- ... DROP CONSTRAINT (catalog-only, ACCESS EXCLUSIVE for about a millisecond), a unique index by DROP INDEX
-- CONCURRENTLY. Refuses (a failing statement) unless both per-tenant keys are in place and valid.
-- From here on, a legacy `ON CONFLICT (phone_number)` fails (see the phase's warning in plan.toml).
-- A unique the phase adopted (--keep-global-unique: the value stays unique across tenants) is left as it is.

WITH old AS (
    SELECT u.index_name AS object_name, CASE WHEN u.is_constraint THEN 'constraint' ELSE 'index' END AS kind
    FROM tenant_migrate.tenant_uniques AS u
    WHERE u.index_name IS NOT NULL AND u.why IS NULL
),
composite AS (
    SELECT count(*) AS n FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
    WHERE x.indrelid = 'public.contacts'::regclass AND x.indisunique AND x.indisvalid
        AND i.relname IN ('unique_contact_per_user', 'unique_thread_per_user')
)
SELECT 'DO $guard$ BEGIN RAISE EXCEPTION ''unique_contact_per_user / unique_thread_per_user are not both '
       'in place: refusing to drop the app''''s unique keys''; END $guard$' AS statement, NULL AS note
FROM composite WHERE n < 2 AND EXISTS (SELECT 1 FROM old)
UNION ALL
SELECT
    CASE
        WHEN s.object_name IS NULL THEN NULL
        WHEN o.kind = 'constraint'
            THEN format('ALTER TABLE public.contacts DROP CONSTRAINT IF EXISTS %I', o.object_name)
        ELSE format('DROP INDEX CONCURRENTLY IF EXISTS public.%I', o.object_name)
    END,
    CASE
        WHEN s.object_name IS NULL THEN format('kept %s %s: its definition was not saved', o.kind, o.object_name)
        ELSE format('dropping %s %s (saved in tenant_migrate.saved_objects)', o.kind, o.object_name)
    END
FROM old AS o
LEFT JOIN tenant_migrate.saved_objects AS s ON s.phase = 5 AND s.table_name = 'contacts'
    AND s.object_name = o.object_name
WHERE (SELECT n FROM composite) = 2
    AND NOT EXISTS (SELECT 1 FROM tenant_migrate.owned_objects AS w
                    WHERE w.phase = 5 AND w.ownership = 'adopted' AND w.table_name = 'contacts'
                        AND w.name = o.object_name AND w.released_at IS NULL);
