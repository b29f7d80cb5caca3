-- zoo / 01_app_email_column: the app keeps its own contacts.email (varchar(255)), with data. The plan adds an
-- email text column: the app's fits, so it is adopted, used as it is, and every rollback leaves it with its data.
-- expect: migrates
-- adopts: column contacts.email
ALTER TABLE contacts ADD COLUMN email varchar(255);
UPDATE contacts SET email = 'contact' || id || '@example.com' WHERE id % 3 = 0;
