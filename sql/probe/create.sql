-- probe / create: a login role of ours that acts as an app role (tenant_migrate/probe.py). It may log in and
-- nothing else: no superuser, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS; a member of no role until probe.py
-- grants it the app role(s) it acts as; a SCRAM verifier of a random password (the password itself is never
-- sent), valid for a day at most. The comment marks it as ours, for the clean-up of stale_roles.sql.
CREATE ROLE {role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT
    PASSWORD {password} VALID UNTIL {until};
COMMENT ON ROLE {role} IS 'tenant-migrate: acts as an app role for a check; dropped after it';
