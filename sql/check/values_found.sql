-- check / values_found: how many of the sampled values %(sample)s are values of {table}.{column} (compared as text:
-- the index on the column serves a text-like one).
SELECT count(DISTINCT t.{column}) FROM public.{table} AS t WHERE t.{column}::text = ANY (%(sample)s::text[])
