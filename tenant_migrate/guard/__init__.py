"""The guard: monitoring beside every phase, and the budgets that bound what the migration does to the live app
and its replicas. Modules: `budgets` (what is allowed), `sampler` (the thread, its readings, cancels, pauses and
ceiling), `figures` (what it saw), `report` (the figures as markdown and one line), `plot` (the PNG), `store` (the
ledger's copy)."""

from tenant_migrate.guard.budgets import Budgets
from tenant_migrate.guard.sampler import Guard

__all__ = ["Budgets", "Guard"]
