-- 09_distribute / up / 08_truncate_local_data
-- Requires: 09_distribute / up / 07_distribute
-- mode: generated
-- The shells of the distributed and reference tables on the coordinator still hold the rows they had before step 07: no query
-- reads them any more (the rows live on the workers), but they take disk, and a dump of the coordinator would hold
-- them as if they were current. Citus's truncate_local_data_after_distributing_table empties each shell (ACCESS
-- EXCLUSIVE on the shell for a moment). The backup taken before this phase holds them.

SELECT format('SELECT truncate_local_data_after_distributing_table(%L)', format('public.%I', c.relname)) AS statement,
       NULL AS note
FROM pg_dist_partition AS p
JOIN pg_class AS c ON c.oid = p.logicalrelid
WHERE c.relnamespace = 'public'::regnamespace AND pg_relation_size(c.oid) > 0
ORDER BY c.relname;
