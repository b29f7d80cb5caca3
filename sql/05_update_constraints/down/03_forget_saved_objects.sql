-- 05_update_constraints / down / 03_forget_saved_objects
-- Requires: 05_update_constraints / down / 01-02 (the app's objects restored)
-- mode: transaction
-- The saved definitions of objects that exist again are no longer needed (a re-apply saves them anew).
-- Touches only the ledger schema.

DELETE FROM tenant_migrate.saved_objects AS s
WHERE s.phase = 5
    AND (
        (s.kind = 'constraint' AND EXISTS (
            SELECT 1 FROM pg_constraint AS k
            WHERE k.conrelid = ('public.' || quote_ident(s.table_name))::regclass AND k.conname = s.object_name
        ))
        OR (s.kind = 'index' AND to_regclass('public.' || quote_ident(s.object_name)) IS NOT NULL)
    );
