-- 04_backfill_tenant_ids / up / 11_tenant_foreign_keys
-- Requires: 03_create_admin_user (user 1 and chatbot 1 exist)
-- mode: generated
-- The foreign key of each tenant id (tenant_migrate.tenant_id_columns): user_id -> users (id), and
-- (user_id, chatbot_id) -> chatbots (user_id, id), so that no row can name another tenant's chatbot. Added NOT
-- VALID: SHARE ROW EXCLUSIVE on the table and on users/chatbots for about a millisecond, no scan (step 12
-- validates them). From
-- now on every new row is checked. ON DELETE NO ACTION on purpose: deleting a tenant never silently cascades
-- into legacy data, and phase 3's rollback (DELETE of user 1) fails loudly while rows still point at it.
-- A partitioned table takes them per leaf partition (PostgreSQL 15 cannot add a NOT VALID foreign key to a
-- partitioned table); step 13 then adds them to the parent, which adopts the validated ones without a scan.
-- Only what is missing is added: idempotent.

WITH targets AS (
    SELECT w.*, leaf AS target, c.relname AS target_name
    FROM tenant_migrate.tenant_id_columns AS w
    CROSS JOIN LATERAL tenant_migrate.leaf_tables(format('public.%I', w.table_name)::regclass) AS leaf
    JOIN pg_class AS c ON c.oid = leaf
)
SELECT format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES public.%I (%s) NOT VALID',
              t.target, left(t.target_name || '_' || t.column_name, 58) || '_fkey',
              array_to_string(t.fk_columns, ', '), t.referenced, array_to_string(t.referenced_columns, ', '))
           AS statement,
       NULL AS note
FROM targets AS t
WHERE NOT EXISTS (
    SELECT 1 FROM pg_constraint AS k
    WHERE k.conrelid = t.target AND k.contype = 'f' AND k.confrelid = format('public.%I', t.referenced)::regclass
        AND array(SELECT a.attname::text FROM unnest(k.conkey) WITH ORDINALITY AS u (attnum, pos)
                  JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = u.attnum ORDER BY u.pos)
            = t.fk_columns
)
ORDER BY t.ord, t.target_name;
