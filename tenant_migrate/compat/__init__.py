"""The app's own statements, checked against every phase before it runs.

`statements` reads them from pg_stat_statements; `prepare` checks them against a schema as it is;
`findings` compares two checks (before and after a phase); `scratch` runs the whole check on demand, on a
schema-only copy.
"""
