-- check / duplicates: the rows of {table} that would break a unique key the plan adds, on ({key}) as its rows will
-- be scoped (a row without a tenant yet is counted on tenant 1, where the plan puts it), among the rows where
-- {present}: how many values are held more than once, by how many rows, and the ids of the rows holding the first
-- five. One scan of the table (or of an index on the key, where the planner finds one cheaper).
WITH dup AS (
    SELECT count(*) AS n, min(t.id::text) AS first, (array_agg(t.id::text ORDER BY t.id))[1:4] AS ids
    FROM public.{table} AS t
    WHERE {present}
    GROUP BY {key}
    HAVING count(*) > 1
)
SELECT (SELECT count(*) FROM dup) AS keys,
       (SELECT coalesce(sum(n), 0) FROM dup) AS rows,
       ARRAY(SELECT array_to_string(ids, ' = ') || CASE WHEN n > 4 THEN ' = ...' ELSE '' END
             FROM dup ORDER BY first LIMIT 5) AS examples
