-- check / sample_values: up to 200 distinct values (as text, none empty) from the first rows of {table} that have
-- {column}: the sample held against the values that are unique only per tenant after phase 5. Stops after those
-- rows: no scan of a large table.
SELECT DISTINCT s.v
FROM (SELECT t.{column}::text AS v FROM {table} AS t WHERE t.{column} IS NOT NULL AND t.{column}::text <> ''
      LIMIT 200) AS s
