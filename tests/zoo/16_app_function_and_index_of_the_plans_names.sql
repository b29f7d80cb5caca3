-- zoo / 16_app_function_and_index_of_the_plans_names: a function of the app's named app_current_tenant(), and an
-- index idx_orders_chatbot_id on another table: both refused, each on its own line, before any change.
-- expect: refused
-- refuses: phase 8 function app_current_tenant\(\): the app has a function of that name
-- refuses: phase 7 index idx_orders_chatbot_id on orders \(chatbot_id\): an index of that name exists
CREATE FUNCTION app_current_tenant() RETURNS text LANGUAGE sql AS $$ SELECT 'shop' $$;
CREATE INDEX idx_orders_chatbot_id ON contacts (name);
