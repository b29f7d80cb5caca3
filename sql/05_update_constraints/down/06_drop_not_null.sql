-- 05_update_constraints / down / 06_drop_not_null
-- Requires: 05_update_constraints / down / 03_drop_composite_uniques
-- mode: generated
-- DROP NOT NULL on the tenant columns, and any <table>_<column>_not_null_check left by a partial up:
-- catalog-only, ACCESS EXCLUSIVE for about a millisecond, one statement per transaction. Only what
-- is still there: idempotent.

SELECT statement, NULL AS note
FROM (
    SELECT c.relname, a.attname, 1 AS ord,
           format('ALTER TABLE public.%I ALTER COLUMN %I DROP NOT NULL', c.relname, a.attname) AS statement
    FROM pg_attribute AS a
    JOIN pg_class AS c ON c.oid = a.attrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'
        AND c.relname IN ('contacts', 'messages', 'orders', 'campaigns')
        AND a.attname IN ('user_id', 'chatbot_id')
        AND a.attnotnull
    UNION ALL
    SELECT c.relname, k.conname, 2,
           format('ALTER TABLE public.%I DROP CONSTRAINT IF EXISTS %I', c.relname, k.conname)
    FROM pg_constraint AS k
    JOIN pg_class AS c ON c.oid = k.conrelid
    JOIN pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public'
        AND c.relname IN ('contacts', 'messages', 'orders', 'campaigns')
        AND k.contype = 'c'
        AND k.conname IN (c.relname || '_user_id_not_null_check', c.relname || '_chatbot_id_not_null_check')
) AS todo
ORDER BY relname, ord, attname;
