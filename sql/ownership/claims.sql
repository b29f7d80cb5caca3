-- ownership / claims: what the ledger holds now, in one read: every object it holds (created, adopted, pending: a
-- build started; a pending row's objid is its table's) with whether its identity was in the catalog before phase 1
-- (then it is the app's, whatever the row says), and the app objects phases saved to give back ('saved').
SELECT o.kind, o.table_name, o.name, o.ownership, o.phase, o.objid, o.objsub,
       -- an identity (a grant's: with its name) among the baseline's: one hash of the baseline for all rows, where
       -- a correlated EXISTS scanned it once per row (a catalog of thousands of objects: milliseconds per read)
       coalesce((o.kind, o.objid, o.objsub, CASE o.kind WHEN 'grant' THEN o.name ELSE '' END)
                IN (SELECT b.kind, b.objid, b.objsub, CASE b.kind WHEN 'grant' THEN b.name ELSE '' END
                    FROM tenant_migrate.baseline_objects AS b), FALSE) AS in_baseline
FROM tenant_migrate.owned_objects AS o
WHERE o.released_at IS NULL
UNION ALL
SELECT s.kind, s.table_name, s.name, 'saved', NULL, NULL, NULL, FALSE
FROM tenant_migrate.saved_keys AS s;
