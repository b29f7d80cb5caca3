-- 04_backfill_tenant_ids / up / 09_tenant_foreign_keys
-- Requires: 03_create_admin_user (user 1 and chatbot 1 exist)
-- mode: generated
-- Foreign keys user_id -> users and chatbot_id -> chatbots on each tenant table, added NOT VALID: SHARE ROW
-- EXCLUSIVE on the table and on users/chatbots for about a millisecond, no scan (step 10 validates them). From
-- now on every new row is checked. ON DELETE NO ACTION on purpose: deleting a tenant never silently cascades
-- into legacy data, and phase 3's rollback (DELETE of user 1) fails loudly while rows still point at it.
-- A partitioned table takes them per leaf partition (PostgreSQL 15 cannot add a NOT VALID foreign key to a
-- partitioned table); step 11 then adds them to the parent, which adopts the validated ones without a scan.
-- Only what is missing is added: idempotent.

WITH wanted (ord, table_name, column_name, referenced) AS (
    VALUES (1, 'contacts', 'user_id', 'users'), (2, 'contacts', 'chatbot_id', 'chatbots'),
           (3, 'messages', 'user_id', 'users'), (4, 'messages', 'chatbot_id', 'chatbots'),
           (5, 'orders', 'user_id', 'users'), (6, 'orders', 'chatbot_id', 'chatbots'),
           (7, 'campaigns', 'user_id', 'users'), (8, 'campaigns', 'chatbot_id', 'chatbots')
),
targets AS (
    -- the table itself, or each leaf partition of a partitioned table
    SELECT w.*, c.oid::regclass AS target, c.relname AS target_name
    FROM wanted AS w
    JOIN pg_class AS c ON c.relkind = 'r' AND (
        c.oid = format('public.%I', w.table_name)::regclass
        OR c.oid IN (SELECT p.relid FROM pg_partition_tree(format('public.%I', w.table_name)::regclass) AS p))
)
SELECT format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%I) REFERENCES public.%I (id) NOT VALID',
              t.target, left(t.target_name || '_' || t.column_name, 58) || '_fkey', t.column_name, t.referenced)
           AS statement,
       NULL AS note
FROM targets AS t
WHERE NOT EXISTS (
    SELECT 1 FROM pg_constraint AS k
    JOIN pg_attribute AS a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
    WHERE k.conrelid = t.target AND k.contype = 'f' AND cardinality(k.conkey) = 1 AND a.attname = t.column_name
        AND k.confrelid = format('public.%I', t.referenced)::regclass
)
ORDER BY t.ord, t.target_name;
