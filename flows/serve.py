"""Serve the flows locally without a work pool: `python -m tenant_migrate.flows.serve` (needs a Prefect server)."""

from prefect import serve

from tenant_migrate.flows.migrate import migrate
from tenant_migrate.flows.rollback import rollback
from tenant_migrate.flows.staging_dry_run import staging_dry_run


def main() -> None:
    serve(
        migrate.to_deployment(name="migrate-production", concurrency_limit=1),  # type: ignore[arg-type]
        rollback.to_deployment(name="rollback", concurrency_limit=1),  # type: ignore[arg-type]
        staging_dry_run.to_deployment(name="staging-dry-run", cron="0 3 * * *",  # type: ignore[arg-type]
                                      parameters={"staging": "pg-dsn-staging"},  # the copy goes to staging
                                      concurrency_limit=1),
    )


if __name__ == "__main__":
    main()
