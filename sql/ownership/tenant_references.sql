-- ownership / tenant_references: the app's references between its tenant tables that do not carry the tenant:
-- each single-column foreign key from a legacy tenant table to contacts, messages, orders or campaigns by id
-- (messages.contact_id -> contacts, ...). Phase 5 gives each a composite twin (user_id, column) -> (user_id, id)
-- under composite_name, with the same actions, then drops it (saved first, to give it back on rollback): a row
-- can then only reference a row of its own tenant, and an error no longer tells whether an id exists under
-- another tenant. Where that cannot be done online, replaceable is false and why says so (the check reports it;
-- the reference is left as it is). The ledger makes it the view tenant_migrate.tenant_references; the check
-- runs it before the ledger exists.
SELECT c.relname::text AS table_name, a.attname::text AS column_name, k.conname::text AS constraint_name,
       r.relname::text AS referenced, left(c.relname || '_' || a.attname, 50) || '_tenant_fkey' AS composite_name,
       format('FOREIGN KEY (user_id, %I) REFERENCES public.%I (user_id, id)', a.attname, r.relname)
       || CASE k.confupdtype WHEN 'r' THEN ' ON UPDATE RESTRICT' WHEN 'c' THEN ' ON UPDATE CASCADE' ELSE '' END
       || CASE k.confdeltype WHEN 'r' THEN ' ON DELETE RESTRICT' WHEN 'c' THEN ' ON DELETE CASCADE'
                             WHEN 'n' THEN format(' ON DELETE SET NULL (%I)', a.attname)
                             WHEN 'd' THEN format(' ON DELETE SET DEFAULT (%I)', a.attname) ELSE '' END
       || CASE WHEN k.condeferrable THEN ' DEFERRABLE' || CASE WHEN k.condeferred THEN ' INITIALLY DEFERRED' ELSE ''
                                                        END ELSE '' END AS composite_definition,
       r.relkind <> 'p' AND k.confupdtype NOT IN ('n', 'd') AND k.convalidated AS replaceable,
       CASE WHEN r.relkind = 'p' THEN format('%s is partitioned: its (user_id, id) cannot be a unique key unless the '
                                             'partition key is among them', r.relname)
            WHEN k.confupdtype IN ('n', 'd') THEN 'ON UPDATE SET NULL / SET DEFAULT would also clear user_id'
            WHEN NOT k.convalidated THEN 'the app left it NOT VALID: rows may break it'
       END AS why
FROM pg_constraint AS k
JOIN pg_class AS c ON c.oid = k.conrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
JOIN pg_class AS r ON r.oid = k.confrelid
JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
JOIN pg_attribute AS ra ON ra.attrelid = k.confrelid AND ra.attnum = k.confkey[1]
WHERE n.nspname = 'public' AND k.contype = 'f' AND k.conparentid = 0 AND cardinality(k.conkey) = 1
    AND NOT c.relispartition AND ra.attname = 'id'
    AND c.relname IN ('contacts', 'messages', 'orders', 'campaigns', 'campaign_subscribers')
    AND r.relname IN ('contacts', 'messages', 'orders', 'campaigns')
    AND a.attname NOT IN ('user_id', 'chatbot_id')
