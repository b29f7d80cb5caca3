-- ownership / firing_triggers: the app's UPDATE triggers on %(table)s (and its partitions) that would fire for
-- the migration's own row writes: under session_replication_role = replica (%(replica)s) only those enabled
-- ALWAYS or REPLICA fire; otherwise those enabled (ORIGIN) or ALWAYS. tgtype bit 16 is UPDATE.
SELECT DISTINCT format('%%s (on %%s)', g.tgname, c.relname) AS trigger
FROM pg_trigger AS g
JOIN pg_class AS c ON c.oid = g.tgrelid
WHERE (g.tgrelid = format('public.%%I', %(table)s::text)::regclass
       OR g.tgrelid IN (SELECT p.relid FROM pg_partition_tree(format('public.%%I', %(table)s::text)::regclass) AS p))
    AND NOT g.tgisinternal
    AND g.tgtype::int & 16 <> 0
    AND g.tgenabled = ANY (CASE WHEN %(replica)s THEN ARRAY['A', 'R'] ELSE ARRAY['O', 'A'] END::"char"[]);
