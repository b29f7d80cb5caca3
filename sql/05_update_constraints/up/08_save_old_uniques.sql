-- 05_update_constraints / up / 08_save_old_uniques
-- Requires: 05_update_constraints / up / 07_attach_composite_uniques
-- mode: transaction
-- Saves, for the rollback, each unique key of the app's that steps 05-06 made per tenant
-- (tenant_migrate.tenant_uniques: found BY WHAT ITS KEY NAMES, whatever its name and shape): a constraint with its
-- index definition and DEFERRABLE options, a unique index with its definition (predicate, expressions, options),
-- through the saved-object API of sql/README.md. Step 11 drops exactly these. Reads the catalog only; idempotent.

SELECT CASE WHEN u.is_constraint
            THEN tenant_migrate.save_constraint(5, (SELECT k.oid FROM pg_constraint AS k
                                                    WHERE k.conindid = u.index_oid AND k.contype = 'u'))
            ELSE tenant_migrate.save_index(5, u.index_oid) END
FROM tenant_migrate.tenant_uniques AS u
WHERE u.index_oid IS NOT NULL AND u.why IS NULL;
