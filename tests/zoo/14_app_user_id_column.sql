-- zoo / 14_app_user_id_column: orders.user_id already exists: the app's own customer account id. It is never taken
-- for a tenant id: refused before any change.
-- expect: refused
-- refuses: phase 2 column orders.user_id: exists as integer: the plan adds it as the tenant id
ALTER TABLE orders ADD COLUMN user_id integer;
UPDATE orders SET user_id = id % 7;
