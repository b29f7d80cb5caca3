-- expectations / 04_backfill_tenant_ids / no_duplicate_phone_per_user
-- no duplicate contacts per (user_id, phone_number), as phase 5's per-tenant key will hold them: in the shape of the
-- app's own unique key on phone_number (its predicate, e.g. WHERE deleted_at IS NULL, and expressions kept)
SELECT d.user_id, d.key_values, d.n FROM (SELECT 1 FROM {batch} AS batch LIMIT 1) AS p
CROSS JOIN tenant_migrate.per_tenant_duplicates('unique_contact_per_user') AS d
