"""tenant-migrate: the command line of the multi-tenant migration."""

import logging
import os

# Prefect's ephemeral API server needs more than its default 20 s to start on a busy 2-core machine,
# and this offline tool has nowhere to send telemetry.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# An empty PREFECT_API_URL (a shell's way to unset it) means none: Prefect 3.9 takes it half as set, and its events
# worker then fails beside the temporary server with a traceback.
if os.environ.get("PREFECT_API_URL") == "":
    del os.environ["PREFECT_API_URL"]


def _not_the_temporary_server_notice(record: logging.LogRecord) -> bool:
    """Without PREFECT_API_URL a flow runs on a temporary Prefect server, and Prefect says so twice: "Starting
    temporary server ... See https://... for more information on running a dedicated Prefect server" on every run,
    which reads like a problem, and "Stopping temporary server" at exit, after the command's last line (and, when
    stderr is already closed, as a "--- Logging error ---" traceback). The commands say it once, when it helps
    (tenant_migrate/cli/flows.py: a run that failed)."""
    return not str(record.msg).startswith(("Starting temporary server on", "Stopping temporary server on"))


logging.getLogger("prefect").addFilter(_not_the_temporary_server_notice)
