-- 02_add_tenant_columns / up / 05_tenant_fks_not_valid
-- Requires: 02_add_tenant_columns / up / 01-04
-- mode: transaction
-- FKs user_id -> users and chatbot_id -> chatbots, added NOT VALID: SHARE ROW EXCLUSIVE on the table
-- and on users/chatbots for about a millisecond, no scan (existing rows are checked by steps 06-09).
-- ON DELETE NO ACTION on purpose: deleting a tenant never silently cascades into legacy data, and
-- phase 3's rollback (DELETE admin user 1) fails loudly while rows still point at it.
-- Dynamic SQL in a DO block for the catalog check (idempotent); squawk does not lint inside it.

DO $$
DECLARE
    t text;
    c text;
BEGIN
    FOREACH t IN ARRAY ARRAY['contacts', 'messages', 'orders', 'campaigns'] LOOP
        FOREACH c IN ARRAY ARRAY['user_id', 'chatbot_id'] LOOP
            IF NOT EXISTS (
                SELECT 1 FROM pg_constraint
                WHERE conrelid = ('public.' || quote_ident(t))::regclass AND conname = t || '_' || c || '_fkey'
            ) THEN
                EXECUTE 'ALTER TABLE public.' || quote_ident(t)
                    || ' ADD CONSTRAINT ' || quote_ident(t || '_' || c || '_fkey')
                    || ' FOREIGN KEY (' || quote_ident(c) || ') REFERENCES public.'
                    || CASE c WHEN 'user_id' THEN 'users' ELSE 'chatbots' END || ' (id) NOT VALID';
            END IF;
        END LOOP;
    END LOOP;
END
$$;
