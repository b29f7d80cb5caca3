-- zoo / 11_existing_row_level_security: the app already has row-level security on contacts, with a policy of its
-- own. Phase 8 adds its policies beside it; its rollback leaves the app's policy and ENABLE as they were.
-- expect: migrates
ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
CREATE POLICY app_reads_active ON contacts FOR SELECT USING (contact_status <> 'blocked');
