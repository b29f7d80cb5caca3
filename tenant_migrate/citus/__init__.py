"""Citus: distributing the migrated database over a cluster (phase 9), what stands in its way, a local cluster for
tests and rehearsals, and a big tenant on its own."""
