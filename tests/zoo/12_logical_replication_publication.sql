-- zoo / 12_logical_replication_publication: the app publishes contacts and messages for logical replication.
-- expect: migrates
CREATE PUBLICATION app_changes FOR TABLE contacts, messages;
