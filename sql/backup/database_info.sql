-- backup / database_info: size, version and locale of the current database, for preflight and the manifest.
SELECT pg_database_size(d.oid) AS size_bytes,
       current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num,
       pg_encoding_to_char(d.encoding) AS encoding,
       d.datcollate AS lc_collate,
       d.datctype AS lc_ctype,
       to_regclass('tenant_migrate.phase_runs') IS NOT NULL AS has_ledger
FROM pg_database AS d
WHERE d.datname = current_database();
