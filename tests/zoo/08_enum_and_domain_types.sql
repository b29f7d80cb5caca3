-- zoo / 08_enum_and_domain_types: contact_status is an enum and phone_number a domain of the app's own.
-- expect: migrates
CREATE TYPE contact_state AS ENUM ('active', 'inactive', 'blocked');
CREATE DOMAIN phone AS varchar(32) CHECK (VALUE ~ '^\+[0-9]+$');
ALTER TABLE contacts ALTER COLUMN contact_status DROP DEFAULT;
ALTER TABLE contacts ALTER COLUMN contact_status TYPE contact_state USING contact_status::contact_state;
ALTER TABLE contacts ALTER COLUMN contact_status SET DEFAULT 'active';
ALTER TABLE contacts ALTER COLUMN phone_number TYPE phone;
