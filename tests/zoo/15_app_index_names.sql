-- zoo / 15_app_index_names: the app already has idx_messages_sent_at on messages (sent_at), the very index phase 7
-- wants: adopted, and every rollback leaves it.
-- expect: migrates
-- adopts: index idx_messages_sent_at on messages (sent_at)
CREATE INDEX idx_messages_sent_at ON messages (sent_at);
