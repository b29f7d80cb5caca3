"""The acceptance checklist: the plan's last section, "Testing & Validation", every line measured on the
migrated database (existing functionality, new functionality, performance). It is not a phase: it
changes nothing and runs after the last phase of the plan."""

LOAD_TENANTS = 4  # the concurrent load's tenants at once (tenant 1 on its real data, the others new)
LOAD_SECONDS = 5.0  # how long it runs, after one untimed round per tenant
