-- 04_backfill_tenant_ids / up / 10_validate_tenant_foreign_keys
-- Requires: 04_backfill_tenant_ids / up / 09_tenant_foreign_keys
-- mode: generated
-- VALIDATE CONSTRAINT scans the table under SHARE UPDATE EXCLUSIVE only (+ ROW SHARE on users/chatbots): reads
-- and writes continue. One constraint per transaction; only those not validated yet: idempotent.

SELECT format('ALTER TABLE %s VALIDATE CONSTRAINT %I', k.conrelid::regclass, k.conname) AS statement, NULL AS note
FROM pg_constraint AS k
JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
JOIN pg_class AS c ON c.oid = k.conrelid
WHERE k.contype = 'f' AND NOT k.convalidated AND k.conparentid = 0 AND cardinality(k.conkey) = 1
    AND a.attname IN ('user_id', 'chatbot_id')
    AND k.confrelid IN ('public.users'::regclass, 'public.chatbots'::regclass)
    AND c.relnamespace = 'public'::regnamespace
    AND (c.relname IN ('contacts', 'messages', 'orders', 'campaigns')
         OR EXISTS (SELECT 1 FROM unnest(ARRAY['contacts', 'messages', 'orders', 'campaigns']) AS t (name)
                    WHERE c.oid IN (SELECT relid FROM pg_partition_tree(format('public.%I', t.name)::regclass))))
ORDER BY c.relname, k.conname;
