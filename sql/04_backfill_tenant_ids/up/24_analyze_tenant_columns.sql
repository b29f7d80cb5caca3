-- 04_backfill_tenant_ids / up / 24_analyze_tenant_columns
-- Requires: 04_backfill_tenant_ids / up / 22_set_not_null (the tenant ids final)
-- mode: generated
-- Statistics of the tenant ids, which the planner has none of until now: phase 2's DEFAULT changed no row, so no
-- autovacuum ever analyzed them, and a table the app seldom writes is not analyzed for weeks. Without them the
-- planner guesses that user_id = 1 matches 0.5% of the rows when it matches all of them: the app's statements from
-- phase 8 on (row-level security tests user_id in every one), and the validations of the next phases, are planned
-- on that guess. ANALYZE of those columns only (the app's own columns keep the statistics it had): SHARE UPDATE
-- EXCLUSIVE, so reads and writes go on; it reads a sample of at most 300 x default_statistics_target rows of each
-- table, whatever its size, and writes only pg_statistic. One statement per table, each in its own transaction.
-- Nothing to roll back: the catalog stays as it was, and phase 2's rollback drops the columns and their
-- statistics with them.

SELECT format('ANALYZE public.%I (%s)', t.table_name,
              string_agg(quote_ident(t.column_name), ', ' ORDER BY t.ord)) AS statement,
       NULL AS note
FROM tenant_migrate.tenant_id_columns AS t
GROUP BY t.table_name
ORDER BY min(t.ord);
