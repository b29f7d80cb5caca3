-- compat / role_tenant: whether a role has a tenant under phase 8's row-level security: a member of
-- tenant_legacy (tenant 1), tenant_app (names its tenant per transaction) or tenant_owner (every row).
SELECT EXISTS (
    SELECT 1 FROM pg_roles AS g
    WHERE g.rolname IN ('tenant_legacy', 'tenant_app', 'tenant_owner')
      AND pg_has_role(%(role)s, g.oid, 'USAGE')
) AS has_tenant;
