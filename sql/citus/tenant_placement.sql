-- citus / tenant_placement: where a tenant's rows live once phase 9 distributed the tables: the shard of users that
-- holds its id (every colocated table's shard of the same range sits on the same node), the node, how many tenants
-- share that shard's range, and its size on disk across the colocated tables. %(tenant)s: the tenant (users.id).
WITH shard AS (
    SELECT get_shard_id_for_distribution_column('public.users', %(tenant)s) AS shardid
)
SELECT s.shardid, n.nodename, n.nodeport,
       (SELECT d.shardmaxvalue::bigint - d.shardminvalue::bigint + 1 FROM pg_dist_shard AS d
        WHERE d.shardid = s.shardid) AS hash_values,
       (SELECT coalesce(sum(c.shard_size), 0) FROM citus_shards AS c
        WHERE c.colocation_id = (SELECT colocationid FROM pg_dist_partition
                                 WHERE logicalrelid = 'public.users'::regclass)
            AND c.shardid IN (SELECT x.shardid FROM pg_dist_shard AS x
                              JOIN pg_dist_shard AS u ON u.shardid = s.shardid
                              WHERE x.shardminvalue = u.shardminvalue AND x.shardmaxvalue = u.shardmaxvalue))
           AS bytes
FROM shard AS s
JOIN pg_dist_placement AS p ON p.shardid = s.shardid
JOIN pg_dist_node AS n ON n.groupid = p.groupid
