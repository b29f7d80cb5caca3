-- zoo / 03_app_triggers_and_outbox: the app keeps updated_at with a BEFORE UPDATE trigger, and another trigger
-- writes an outbox row (how messages get sent) for every updated contact or order. No row the migration writes,
-- either way through phases 2-4, fires them: no outbox row, no updated_at rewritten.
-- expect: migrates
-- ways: instant batched
CREATE TABLE outbox (id bigserial PRIMARY KEY, table_name text NOT NULL, row_id bigint NOT NULL,
                     created_at timestamptz NOT NULL DEFAULT now());
CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE FUNCTION write_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO outbox (table_name, row_id) VALUES (TG_TABLE_NAME, NEW.id); RETURN NULL; END $$;
CREATE TRIGGER contacts_touch BEFORE UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE TRIGGER contacts_outbox AFTER UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION write_outbox();
CREATE TRIGGER orders_outbox AFTER UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION write_outbox();
CREATE FUNCTION write_outbox_batch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO outbox (table_name, row_id) VALUES (TG_TABLE_NAME, 0); RETURN NULL; END $$;
CREATE TRIGGER messages_outbox AFTER UPDATE ON messages FOR EACH STATEMENT EXECUTE FUNCTION write_outbox_batch();
