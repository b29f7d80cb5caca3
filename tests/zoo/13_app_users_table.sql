-- zoo / 13_app_users_table: the app already has a users table (its staff logins). Refused before any change.
-- expect: refused
-- refuses: phase 1 table users: the app has a table users .* rename the app's table
CREATE TABLE users (id serial PRIMARY KEY, login text UNIQUE NOT NULL, password_hash text);
INSERT INTO users (login) VALUES ('alice'), ('bob');
