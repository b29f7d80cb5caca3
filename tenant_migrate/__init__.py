"""The migration engine: plain Python functions over PostgreSQL, callable without Prefect.

Layers, each importing only the ones below it: `cli/` (the command line) -> `flows/` (Prefect flows)
-> `tasks/` (Prefect tasks, thin shells) -> `tenant_migrate/` (this package) and `backend_contract/`.
"""
