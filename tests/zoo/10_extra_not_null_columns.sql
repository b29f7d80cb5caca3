-- zoo / 10_extra_not_null_columns: columns of the app's that are NOT NULL (with defaults, as a live app needs).
-- expect: migrates
ALTER TABLE contacts ADD COLUMN source text NOT NULL DEFAULT 'whatsapp';
ALTER TABLE messages ADD COLUMN channel text NOT NULL DEFAULT 'wa';
ALTER TABLE orders ADD COLUMN placed_by text NOT NULL DEFAULT 'bot';
