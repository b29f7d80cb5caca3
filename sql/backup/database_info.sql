-- backup / database_info: size, version and locale of the current database, for preflight and the manifest.
SELECT pg_database_size(d.oid) AS size_bytes,
       current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num,
       pg_encoding_to_char(d.encoding) AS encoding,
       d.datcollate AS lc_collate,
       d.datctype AS lc_ctype,
       to_regclass('tenant_migrate.phase_runs') IS NOT NULL AS has_ledger,
       -- Does row-level security (phase 8) hide rows from this role? pg_dump must then be told to apply
       -- it (--enable-row-security), which is complete only through the tenant_owner all-rows policy.
       CASE
           WHEN (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) THEN 'bypass'
           WHEN NOT EXISTS (
               SELECT 1 FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace
               WHERE n.nspname = 'public' AND c.relrowsecurity
                   AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))
           ) THEN 'bypass'
           WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tenant_owner') AND pg_has_role('tenant_owner', 'USAGE')
               THEN 'owner_policy'
           ELSE 'restricted'
       END AS row_security
FROM pg_database AS d
WHERE d.datname = current_database();
