-- guard / statement_text: the text pg_stat_statements keeps for the query id %(query_id)s in this database, its
-- constants replaced by $1, $2, ... (no row: not recorded yet). {schema} is the extension's schema.
SELECT s.query
FROM {schema}.pg_stat_statements(true) AS s
WHERE s.queryid = %(query_id)s
  AND s.dbid = (SELECT d.oid FROM pg_database AS d WHERE d.datname = current_database())
  AND s.query <> '<insufficient privilege>'
LIMIT 1;
