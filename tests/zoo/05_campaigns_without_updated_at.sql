-- zoo / 05_campaigns_without_updated_at: campaigns has no updated_at (nor status). The migration never uses them, so
-- no suite may ask for them: every phase validates.
-- expect: migrates
-- validate: all
ALTER TABLE campaigns DROP COLUMN updated_at, DROP COLUMN status;
