"""The acceptance checklist: the plan's last section, "Testing & Validation", every line measured on the
migrated database (existing functionality, new functionality, performance). It is not a phase: it
changes nothing and runs after the last phase of the plan."""
