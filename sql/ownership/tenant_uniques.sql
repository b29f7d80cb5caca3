-- ownership / tenant_uniques: the per-tenant unique keys phase 5 builds on contacts, one for phone_number
-- (unique_contact_per_user) and one for thread_id (unique_thread_per_user), each in the shape of the app's own unique
-- key on that value, whatever it is: a unique constraint or a unique index whose key names the column (alone or with
-- others, or inside an expression such as lower(phone_number)), partial or not, INCLUDE, NULLS NOT DISTINCT,
-- DEFERRABLE. The per-tenant key is the app's index definition with user_id put first in its key (predicate,
-- expressions, operator classes, INCLUDE and NULLS NOT DISTINCT kept); it is attached as a constraint (with the app's
-- DEFERRABLE / INITIALLY DEFERRED) unless it is partial or has an expression, which a constraint cannot be. Without
-- such a key of the app's: UNIQUE (user_id, <column>). Phase 5 saves the app's key (index_oid), drops it and gives
-- it back on rollback. What phase 5 cannot convert has why (the check refuses it, before any change): an exclusion
-- constraint, an INVALID index, a key naming both values, several keys on one value, a definition of another form.
-- A key that names user_id is left out (an app column named user_id is refused by the check anyway). The ledger
-- makes it the view tenant_migrate.tenant_uniques; the check runs it before the ledger exists.
WITH wanted (ord, column_name, key_name) AS (
    VALUES (1, 'phone_number', 'unique_contact_per_user'), (2, 'thread_id', 'unique_thread_per_user')
),
app AS (
    SELECT x.indexrelid AS index_oid, i.relname::text AS index_name, x.indisvalid, x.indnullsnotdistinct,
           pg_get_expr(x.indpred, x.indrelid) AS predicate,
           x.indpred IS NULL AND x.indexprs IS NULL AS plain, k.contype,
           coalesce(k.condeferrable, false) AS condeferrable, coalesce(k.condeferred, false) AS condeferred,
           pg_get_indexdef(x.indexrelid) AS definition,
           format('CREATE UNIQUE INDEX %s ON public.contacts USING btree (', quote_ident(i.relname)) AS prefix,
           ARRAY(SELECT pg_get_indexdef(x.indexrelid, n, false) FROM generate_series(1, x.indnkeyatts) AS n
                 ORDER BY n) AS key_expressions,
           ARRAY(SELECT a.attname::text FROM pg_attribute AS a
                 WHERE a.attrelid = x.indrelid AND a.attnum > 0
                     AND (a.attnum = ANY ((string_to_array(x.indkey::text, ' ')::int2[])[1:x.indnkeyatts])
                          OR a.attnum::text IN (SELECT m[1] FROM regexp_matches(coalesce(x.indexprs::text, ''),
                                                                                ':varattno (\d+)', 'g') AS m)))
               AS key_columns
    FROM pg_index AS x
    JOIN pg_class AS i ON i.oid = x.indexrelid
    LEFT JOIN pg_constraint AS k ON k.conindid = x.indexrelid AND k.contype IN ('u', 'x')
    WHERE x.indrelid = to_regclass('public.contacts') AND NOT x.indisprimary AND (x.indisunique OR k.contype = 'x')
),
found AS (
    SELECT w.ord, w.column_name, w.key_name, a.*, count(*) OVER (PARTITION BY w.column_name) AS sharing
    FROM wanted AS w
    JOIN app AS a ON w.column_name = ANY (a.key_columns) AND NOT 'user_id' = ANY (a.key_columns)
),
judged AS (
    SELECT f.*,
           CASE
               WHEN f.contype = 'x' THEN 'an exclusion constraint: phase 5 rebuilds unique keys per tenant, not '
                   'exclusion constraints; replace it by a unique index on the same key, or drop it'
               WHEN NOT f.indisvalid THEN 'INVALID (an interrupted CREATE INDEX CONCURRENTLY): drop it, or rebuild it '
                   '(REINDEX INDEX CONCURRENTLY)'
               WHEN f.key_columns @> ARRAY['phone_number', 'thread_id'] THEN 'its key names both phone_number and '
                   'thread_id, which phase 5 makes unique per tenant each on its own: replace it by a key on one'
               WHEN f.sharing > 1 THEN format('one of %s unique keys of the app''s on %s; phase 5 makes one per '
                   'tenant: drop those another one makes redundant', f.sharing, f.column_name)
               WHEN NOT starts_with(f.definition, f.prefix) THEN 'its definition is not a btree unique index on '
                   'public.contacts that phase 5 can rebuild'
           END AS why
    FROM found AS f
)
SELECT j.ord, j.column_name, j.key_name, j.index_name, j.index_oid, coalesce(j.contype = 'u', false) AS is_constraint,
       j.key_expressions, j.predicate, j.indnullsnotdistinct AS nulls_not_distinct,
       CASE WHEN j.why IS NULL THEN
           format('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS %I ON public.contacts USING btree (user_id, ',
                  j.key_name) || substr(j.definition, length(j.prefix) + 1)
       END AS statement,
       j.plain AS as_constraint,
       CASE WHEN j.condeferrable THEN ' DEFERRABLE' || CASE WHEN j.condeferred THEN ' INITIALLY DEFERRED' ELSE '' END
            ELSE '' END AS deferrable,
       j.why
FROM judged AS j
UNION ALL
SELECT w.ord, w.column_name, w.key_name, NULL, NULL, NULL, ARRAY[quote_ident(w.column_name)], NULL, false,
       format('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS %I ON public.contacts USING btree (user_id, %I)',
              w.key_name, w.column_name),
       true, '', NULL
FROM wanted AS w
WHERE NOT EXISTS (SELECT 1 FROM found AS f WHERE f.column_name = w.column_name)
ORDER BY 1, 4
