-- forecast / legacy_size: the size of the tables the phases work on (heap and TOAST, every partition of a partitioned
-- one), in bytes: what a phase's scans and builds grow with. Read from the catalog: no scan.
-- Parameter: tables, the legacy tables' names. pg_partition_tree() has no row for a table that is not partitioned.
SELECT coalesce(sum(pg_table_size(coalesce(t.relid, r.oid))), 0)::bigint AS size_bytes
FROM unnest(%(tables)s::text[]) AS l (name)
CROSS JOIN LATERAL (SELECT to_regclass(format('public.%%I', l.name)) AS oid) AS r
LEFT JOIN LATERAL pg_partition_tree(r.oid) AS t ON true
WHERE r.oid IS NOT NULL;
