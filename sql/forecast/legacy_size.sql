-- forecast / legacy_size: the size of the tables the phases work on (heap and TOAST, every partition of a partitioned
-- one), in bytes: what a phase's scans and builds grow with. Read from the catalog: no scan.
-- Parameter: tables, the legacy tables' names.
SELECT coalesce(sum(pg_table_size(t.relid)), 0)::bigint AS size_bytes
FROM unnest(%(tables)s::text[]) AS l (name)
CROSS JOIN LATERAL pg_partition_tree(to_regclass(format('public.%%I', l.name))) AS t;
