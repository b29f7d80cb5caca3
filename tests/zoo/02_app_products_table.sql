-- zoo / 02_app_products_table: the shop already has a products table of its own (300 rows), of another shape than
-- phase 6's. It is refused before any change, naming the table and what to do.
-- expect: refused
-- refuses: phase 6 table products: the app has a table products .* rename the app's table
CREATE TABLE products (id serial PRIMARY KEY, title text NOT NULL, price numeric(10, 2));
INSERT INTO products (title, price) SELECT 'product ' || i, i FROM generate_series(1, 300) AS i;
