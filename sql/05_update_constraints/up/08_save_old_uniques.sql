-- 05_update_constraints / up / 08_save_old_uniques
-- Requires: 05_update_constraints / up / 07_attach_composite_uniques
-- mode: transaction
-- Saves, for the rollback, every single-column unique constraint or unique index on contacts(phone_number) or
-- contacts(thread_id), found in the catalog BY ITS COLUMN, whatever its name (the saved-object API of
-- sql/README.md). Step 11 drops exactly these (same criteria). Reads the catalog only; idempotent.

SELECT tenant_migrate.save_constraint(5, k.oid)
FROM pg_constraint AS k
JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND k.conkey = ARRAY[a.attnum]
WHERE k.conrelid = 'public.contacts'::regclass
    AND k.contype = 'u'
    AND a.attname IN ('phone_number', 'thread_id');

SELECT tenant_migrate.save_index(5, x.indexrelid)
FROM pg_index AS x
JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
WHERE x.indrelid = 'public.contacts'::regclass
    AND x.indisunique
    AND x.indnkeyatts = 1
    AND a.attname IN ('phone_number', 'thread_id')
    AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'));
