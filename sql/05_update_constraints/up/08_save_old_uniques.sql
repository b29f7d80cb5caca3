-- 05_update_constraints / up / 08_save_old_uniques
-- Requires: 05_update_constraints / up / 07_attach_composite_uniques
-- mode: transaction
-- Saves, for the rollback, the definition of every single-column unique constraint or unique index on
-- contacts(phone_number) or contacts(thread_id), found in the catalog BY ITS COLUMN, whatever its
-- name. Step 09 drops exactly these (same criteria). Reads the catalog only; idempotent.

INSERT INTO tenant_migrate.saved_objects (phase, table_name, object_name, kind, definition)
SELECT 5, 'contacts', k.conname, 'constraint', pg_get_constraintdef(k.oid)
FROM pg_constraint AS k
JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND k.conkey = ARRAY[a.attnum]
WHERE k.conrelid = 'public.contacts'::regclass
    AND k.contype = 'u'
    AND a.attname IN ('phone_number', 'thread_id')
UNION ALL
SELECT 5, 'contacts', i.relname, 'index', pg_get_indexdef(x.indexrelid)
FROM pg_index AS x
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_attribute AS a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0]
WHERE x.indrelid = 'public.contacts'::regclass
    AND x.indisunique
    AND x.indnkeyatts = 1
    AND a.attname IN ('phone_number', 'thread_id')
    AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))
ON CONFLICT (phase, object_name) DO NOTHING;
