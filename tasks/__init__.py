"""The Prefect tasks: thin shells over the engine (tenant_migrate/), one module per kind of task.

Flows compose these tasks and reach the engine only through them. Retries only where a retry is safe
and only for transient errors (a dropped connection, a lock timeout, a serialization failure); every
task is safe to re-run because the ledger remembers.
"""
