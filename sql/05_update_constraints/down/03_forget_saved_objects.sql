-- 05_update_constraints / down / 03_forget_saved_objects
-- Requires: 05_update_constraints / down / 01-02 (the app's objects restored)
-- mode: transaction
-- The saved definitions of objects that exist again, on the table they were saved from, are no longer needed (a
-- re-apply saves them anew). Touches only the ledger schema.

DELETE FROM tenant_migrate.saved_objects AS s
WHERE s.phase = 5
    AND (
        (s.kind = 'constraint' AND EXISTS (
            SELECT 1 FROM pg_constraint AS k WHERE k.conrelid = s.table_oid AND k.conname = s.object_name
        ))
        OR (s.kind = 'index' AND EXISTS (
            SELECT 1 FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid
            WHERE x.indrelid = s.table_oid AND i.relname = s.object_name AND x.indisvalid
        ))
    );
