"""The migration engine: plain Python functions over PostgreSQL, callable without Prefect.

Layers, each importing only the ones below it: `tenant_migrate.cli` (the command line) -> `tenant_migrate.flows`
(Prefect flows) -> `tenant_migrate.tasks` (Prefect tasks, thin shells) -> the engine (the rest of this package) and
`tenant_migrate.backend_contract`. This is the one package installed; its `flows` and `tasks` are the folders of
those names at the top of the repository (the project's layout), reached through the links of the same names here.
"""
