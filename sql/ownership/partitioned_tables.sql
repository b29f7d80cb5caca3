-- ownership / partitioned_tables: the legacy tables that are partitioned, with their partition key and leaves.
SELECT c.relname AS table_name, pg_get_partkeydef(c.oid) AS partition_key,
       (SELECT count(*) FROM pg_partition_tree(c.oid) AS p WHERE p.isleaf) AS leaves
FROM pg_class AS c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'p'
    AND c.relname IN ('contacts', 'messages', 'orders', 'campaigns', 'campaign_subscribers')
ORDER BY c.relname;
