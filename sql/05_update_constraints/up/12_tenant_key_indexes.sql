-- 05_update_constraints / up / 12_tenant_key_indexes
-- Requires: 04_backfill_tenant_ids (user_id NOT NULL)
-- mode: generated
-- UNIQUE (user_id, id) on each legacy table that other tenant rows reference (contacts, messages, orders,
-- campaigns): what the composite foreign keys of step 14 and phase 6 point at, so that a row can reference only
-- a row of its own tenant. Each index built CONCURRENTLY (SHARE UPDATE EXCLUSIVE: reads and writes continue);
-- step 13 attaches it as a constraint. A partitioned table cannot have it unless its partition key is among
-- those columns: skipped with a note (no foreign key can point at such a table by id anyway).

SELECT CASE WHEN c.relkind <> 'p' THEN
           format('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS %I ON public.%I (user_id, id)',
                  t.name || '_user_id_id_key', t.name)
       END AS statement,
       CASE WHEN c.relkind = 'p' THEN format('no UNIQUE (user_id, id) on %s: it is partitioned', t.name) END AS note
FROM unnest(ARRAY['contacts', 'messages', 'orders', 'campaigns']) WITH ORDINALITY AS t (name, ord)
JOIN pg_class AS c ON c.oid = format('public.%I', t.name)::regclass
WHERE NOT EXISTS (SELECT 1 FROM pg_constraint AS k
                  WHERE k.conrelid = c.oid AND k.conname = t.name || '_user_id_id_key')
ORDER BY t.ord;
