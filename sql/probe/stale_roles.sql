-- probe / stale_roles: login roles of ours (create.sql) whose creating session is gone: left by a run that was
-- killed before it dropped its own. The creator's backend pid is in the name; the comment says the role is ours.
-- Only those that own nothing: dropping them revokes what they were granted, and takes nothing else.
SELECT r.rolname
FROM pg_roles AS r
CROSS JOIN LATERAL regexp_match(r.rolname, '^tenant_migrate_probe_([0-9]+)_[0-9a-f]+$') AS m (parts)
WHERE m.parts IS NOT NULL
  AND shobj_description(r.oid, 'pg_authid') = 'tenant-migrate: acts as an app role for a check; dropped after it'
  AND NOT EXISTS (SELECT 1 FROM pg_stat_activity AS a WHERE a.pid = m.parts[1]::integer)
  AND NOT EXISTS (SELECT 1 FROM pg_shdepend AS d
                  WHERE d.refclassid = 'pg_authid'::regclass AND d.refobjid = r.oid AND d.deptype = 'o')
ORDER BY 1;
