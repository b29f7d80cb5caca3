-- 05_update_constraints / up / 11_drop_old_uniques
-- Requires: 05_update_constraints / up / 10_thread_id_lookup_index
-- mode: generated
-- Drops the single-column uniques on contacts(phone_number) / contacts(thread_id), found BY COLUMN
-- (same criteria as step 08) and only if step 08 saved them: a constraint by ALTER TABLE ... DROP
-- CONSTRAINT (catalog-only, ACCESS EXCLUSIVE for about a millisecond), a plain unique index by DROP
-- INDEX CONCURRENTLY. Refuses (a failing statement) unless both composite uniques are in place.
-- From here on, a legacy `ON CONFLICT (phone_number)` fails (see the phase's warning in plan.toml).
-- A unique the phase adopted (--keep-global-unique: the value stays unique across tenants) is left as it is.

WITH old AS (
    SELECT k.conname AS object_name, 'constraint' AS kind
    FROM pg_constraint AS k
    JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND k.conkey = ARRAY[a.attnum]
    WHERE k.conrelid = 'public.contacts'::regclass
        AND k.contype = 'u'
        AND a.attname IN ('phone_number', 'thread_id')
    UNION ALL
    SELECT i.relname, 'index'
    FROM pg_index AS x
    JOIN pg_class AS i ON i.oid = x.indexrelid
    JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
    WHERE x.indrelid = 'public.contacts'::regclass
        AND x.indisunique
        AND x.indnkeyatts = 1
        AND a.attname IN ('phone_number', 'thread_id')
        AND NOT EXISTS (
            SELECT 1 FROM pg_constraint AS k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x')
        )
),
composite AS (
    SELECT count(*) AS n FROM pg_constraint
    WHERE conrelid = 'public.contacts'::regclass AND contype = 'u'
        AND conname IN ('unique_contact_per_user', 'unique_thread_per_user')
)
SELECT 'DO $guard$ BEGIN RAISE EXCEPTION ''unique_contact_per_user / unique_thread_per_user are not both '
       'in place: refusing to drop the single-column uniques''; END $guard$' AS statement, NULL AS note
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
LEFT JOIN tenant_migrate.saved_objects AS s ON s.phase = 5 AND s.object_name = o.object_name
WHERE (SELECT n FROM composite) = 2
    AND NOT EXISTS (SELECT 1 FROM tenant_migrate.owned_objects AS w
                    WHERE w.phase = 5 AND w.ownership = 'adopted' AND w.table_name = 'contacts'
                        AND w.name = o.object_name AND w.released_at IS NULL);
