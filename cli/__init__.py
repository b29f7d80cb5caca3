"""tenant-migrate: the command line of the multi-tenant migration."""

import os

# Prefect's ephemeral API server needs more than its default 20 s to start on a busy 2-core machine,
# and this offline tool has nowhere to send telemetry.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
