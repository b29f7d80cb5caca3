"""Running a phase's Great Expectations suite against the database (validate_phase).

How a suite runs:
- An ephemeral GX context (nothing written next to the suites), progress bars off, kept for the
  process with its datasource, assets, suites and checkpoints for the last database validated
  (rebuilt when the database, a suite file, the admin email, the Data Docs folder or the set of
  tables changes); its connection pools are closed after every validation.
- Query checks use expect_query_to_return_no_rows (ExpectQueryToReturnNoRows below): GX's
  unexpected_rows_expectation, but its query runs once, not twice; its observed_value is the number
  of rows returned, capped at 200.
- Expectations whose meta names a "table" run against that public table (built-ins such as
  expect_column_values_to_not_be_null, and GROUP BY ... HAVING duplicate checks).
- All others run against a one-row "parameters" query asset (`SELECT <phase>, <admin email>`),
  which their unexpected_rows_query reads through `{batch}`: catalog checks, cross-table counts,
  the row-count snapshot in tenant_migrate.row_counts.
- Everything is pushed down to SQL: no table rows come into Python beyond <= 200 unexpected rows.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tenant_migrate.db import VALIDATE_APPLICATION_NAME, Counts, connection
from tenant_migrate.dsn import describe
from tenant_migrate.errors import MigrationError, first_line
from tenant_migrate.paths import PROJECT_ROOT
from tenant_migrate.private import make_private, private_dir
from tenant_migrate.validation.results import failure, summary_line
from tenant_migrate.validation.suites import gx_module, load_suite, phase_name, read_suite_file

log = logging.getLogger("tenant_migrate.validate")

DEFAULT_REPORTS_DIR = PROJECT_ROOT / "reports" / "gx"
DEFAULT_ADMIN_EMAIL = "admin@swiftreplies.ai"
PARAMS_ASSET = "parameters"
DOCS_SITE = "tenant_migrate"
# --- the plan and the suite files -------------------------------------------------------------------

# --- connections ----------------------------------------------------------------------------------

def sqlalchemy_url(dsn: str) -> str:
    """A postgresql+psycopg:// URL for GX/SQLAlchemy from any libpq DSN (URL or key=value).

    GX's URL validation wants a host in the netloc: a Unix-socket host goes into ?host=.
    """
    from sqlalchemy.engine import URL  # noqa: PLC0415 - keep CLI startup light

    parts = {k: str(v) for k, v in conninfo_to_dict(dsn).items() if v is not None}
    host = parts.pop("host", None) or ""
    query: dict[str, str] = {k: v for k, v in parts.items() if k not in ("user", "password", "port", "dbname")}
    query["application_name"] = VALIDATE_APPLICATION_NAME  # ours: the guard does not count them as the app's
    netloc_host = host
    if not host or host.startswith("/") or "," in host:
        netloc_host = "localhost"
        if host:
            query["host"] = host
    url = URL.create("postgresql+psycopg", username=parts.get("user") or os.environ.get("PGUSER"),
                     password=parts.get("password"), host=netloc_host,
                     port=int(parts["port"]) if parts.get("port", "").isdigit() else None,
                     database=parts.get("dbname"), query=query)
    return url.render_as_string(hide_password=False)


def _existing_tables(dsn: str) -> set[str]:
    with connection(dsn) as conn:
        return {r[0] for r in conn.execute(
            "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')")}


def params_query(number: int, admin_email: str, counted: Counts | None = None) -> str:
    """The one-row parameters relation the catalog checks read through {batch}. `counted`: the legacy tables' count
    the caller has just taken (the flow's one count after a phase): its rows still there since the phase's snapshot
    (`counted`), which the row-count check then uses instead of counting again, and its rows off tenant 1 where it
    counted them (`off_tenant_1`), which spare phase 4's checks the scan of a table that has none; NULL: they scan."""
    kept, off = (counted.kept, counted.off_tenant_1()) if counted is not None else (None, None)
    return sql.SQL("SELECT {}::integer AS phase, {}::text AS admin_email, {}::jsonb AS counted, "
                   "{}::jsonb AS off_tenant_1").format(
        sql.Literal(number), sql.Literal(admin_email), sql.Literal(json.dumps(kept) if kept is not None else None),
        sql.Literal(json.dumps(off) if off is not None else None)).as_string(None)


# --- results --------------------------------------------------------------------------------------

# --- running a suite ------------------------------------------------------------------------------

def reports_dir_default() -> Path:
    return Path(os.environ.get("TENANT_MIGRATE_REPORTS_DIR") or DEFAULT_REPORTS_DIR).resolve()


class _Target:
    """The GX objects for one database, kept for the process: an ephemeral context, its datasource,
    one table asset per table, and what each phase's validation needs (suites, validation
    definitions, checkpoints), built on first use. Only the last database used is kept."""

    def __init__(self, gx: Any, url: str) -> None:
        from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415

        self.url = url
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.datasource = self.context.data_sources.add_postgres(name="target", connection_string=url)
        self.batches: dict[str, Any] = {}  # table asset name -> its whole-table batch definition
        self.phases: dict[int, tuple[Any, dict[str, Any]]] = {}  # phase -> (key, prepared)
        self.sites: dict[Path, str] = {}  # Data Docs folder -> site name

    def table_batch(self, table: str) -> Any:
        if table not in self.batches:
            with warnings.catch_warnings():  # GX 1.24 deprecates schema_name; public must stay explicit
                warnings.simplefilter("ignore", DeprecationWarning)
                asset = self.datasource.add_table_asset(name=table, table_name=table, schema_name="public")
            self.batches[table] = asset.add_batch_definition_whole_table("whole")
        return self.batches[table]

    def docs_site(self, site_dir: Path) -> str:
        if site_dir not in self.sites:
            site = f"{DOCS_SITE}_{len(self.sites)}" if self.sites else DOCS_SITE
            self.context.add_data_docs_site(site_name=site, site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
            self.sites[site_dir] = site
        return self.sites[site_dir]

    def dispose(self) -> None:
        """Close every pooled connection (the engines reconnect on their next use).

        The datasource's engine and its execution engine's are two different SQLAlchemy engines;
        the queries run on the latter."""
        execution_engine = self.datasource._execution_engine  # noqa: SLF001 - only if one was built
        if execution_engine is not None:
            execution_engine.engine.dispose()
        if self.datasource._engine is not None:  # noqa: SLF001
            self.datasource._engine.dispose()  # noqa: SLF001


_targets: dict[str, _Target] = {}
_targets_lock = threading.Lock()  # one validation at a time per process: the GX objects are shared


def _target(gx: Any, url: str) -> _Target:
    """The process's _Target for url; a new database replaces (and disposes) the previous one."""
    if url not in _targets:
        _drop_targets()
        _targets[url] = _Target(gx, url)
    return _targets[url]


def _drop_targets() -> None:
    for target in _targets.values():
        target.dispose()
    _targets.clear()


def _prepare(gx: Any, target: _Target, number: int, name: str, groups: dict[str | None, list[dict[str, Any]]],
             params: str, site: str | None, key: tuple) -> dict[str, Any]:
    """The checkpoints of phase `number` in target, built once per key (see validate_phase).

    Returns {"catalog"|"tables": (checkpoint, {validation definition name: table})}.
    """
    if number in target.phases:
        assert target.phases[number][0] == key, "validate_phase starts over when the key changes"
        return target.phases[number][1]

    validation_defs: dict[str, list[tuple[str | None, Any]]] = {"catalog": [], "tables": []}
    for table, exps in groups.items():
        if table is None:
            asset = target.datasource.add_query_asset(name=f"{PARAMS_ASSET}_{number}", query=params)
            batch = asset.add_batch_definition_whole_table("whole")
        else:
            batch = target.table_batch(table)
        suite_name = name if table is None else f"{name}.{table}"
        suite = target.context.suites.add(load_suite(suite_name, {"name": suite_name, "expectations": exps}))
        vd = target.context.validation_definitions.add(gx.ValidationDefinition(name=suite_name, data=batch,
                                                                                suite=suite))
        validation_defs["catalog" if table is None else "tables"].append((table, vd))

    actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[site])] if site else []
    prepared = {}
    # catalog checks return their (few) unexpected rows; table checks only counts and samples
    for kind, result_format in (("catalog", "COMPLETE"), ("tables", "SUMMARY")):
        if validation_defs[kind]:
            checkpoint = target.context.checkpoints.add(gx.Checkpoint(
                name=f"{name}.{kind}", validation_definitions=[vd for _, vd in validation_defs[kind]],
                actions=actions, result_format={"result_format": result_format}))
            prepared[kind] = (checkpoint, {vd.name: table for table, vd in validation_defs[kind]})
    target.phases[number] = (key, prepared)
    return prepared


def validate_phase(dsn: str, number: int, *, reports_dir: str | Path | None = None, docs: bool = True,
                   admin_email: str | None = None, counted: Counts | None = None) -> dict[str, Any]:
    """Run phase `number`'s suite against the database now.

    Returns {"phase", "name", "success", "evaluated", "passed", "failed": [...], "seconds",
    "data_docs"}; each failed entry names the expectation, its table, and what was observed.
    Data Docs (HTML) go to reports_dir (default $TENANT_MIGRATE_REPORTS_DIR or reports/gx) unless
    docs=False. admin_email is what phase 3 must have set (default $TENANT_MIGRATE_ADMIN_EMAIL or the
    plan's). `counted`: the legacy tables' count just taken by the caller (see params_query). The password
    never reaches the result or the Data Docs.

    The GX setup (context, datasource, assets, suites, checkpoints) is built once per process for the
    last database validated and reused; the suite file is still read, and the tables listed, each call.
    """
    name = phase_name(number)
    data = read_suite_file(name)
    gx = gx_module()  # imported once per process; its ~3 s is not counted in "seconds"
    started = time.perf_counter()
    admin_email = admin_email or os.environ.get("TENANT_MIGRATE_ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL
    existing = _existing_tables(dsn)  # fails with one line if the database is unreachable

    load_suite(name, data)  # the count check, on the whole file

    # group the expectations by the batch they run on, in file order
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for exp in data["expectations"]:
        groups.setdefault((exp.get("meta") or {}).get("table"), []).append(exp)

    failed: list[dict[str, Any]] = []
    evaluated = passed = 0
    for table in [t for t in groups if t is not None and t not in existing]:
        for exp in groups.pop(table):  # a missing table fails each of its checks, without asking GX
            evaluated += 1
            failed.append({"expectation": exp.get("description") or exp["type"], "type": exp["type"],
                           "check": (exp.get("meta") or {}).get("check"), "table": table,
                           "error": f"table public.{table} does not exist"})

    site_dir = None
    if docs:
        site_dir = private_dir(Path(reports_dir).resolve() if reports_dir else reports_dir_default())
    # what the phase's GX objects are built from: the suite (minus missing tables), the parameters
    # and the Data Docs folder; if the phase was built here with another key, start over
    params = params_query(number, admin_email, counted)
    key = (json.dumps(list(groups.items()), sort_keys=True), params, str(site_dir))
    url = sqlalchemy_url(dsn)
    with _targets_lock:
        ran, passed = _run_checkpoints(gx, dsn, url, number, name, groups, params, site_dir, key, failed)
    if site_dir:  # the pages show sampled rows: customer data
        make_private(site_dir)
    evaluated += ran

    result = {"phase": number, "name": name, "success": not failed and evaluated == len(data["expectations"]),
              "evaluated": evaluated, "passed": passed, "failed": failed,
              "seconds": round(time.perf_counter() - started, 3),
              "data_docs": str(site_dir / "index.html") if site_dir else None}
    log.info(summary_line(result))
    return result


def _run_checkpoints(gx: Any, dsn: str, url: str, number: int, name: str,
                     groups: dict[str | None, list[dict[str, Any]]], params: str, site_dir: Path | None,
                     key: tuple, failed: list[dict[str, Any]]) -> tuple[int, int]:
    """Run the phase's checkpoints on the process's GX objects for url (caller holds _targets_lock).

    Appends each failing expectation to `failed`; returns (evaluated, passed)."""
    counts = [0, 0]
    target = _target(gx, url)
    if number in target.phases and target.phases[number][0] != key:
        _drop_targets()
        target = _target(gx, url)
    try:
        site = target.docs_site(site_dir) if site_dir else None
        prepared = _prepare(gx, target, number, name, groups, params, site, key)
        for checkpoint, tables in prepared.values():
            try:
                outcome = checkpoint.run()
            except Exception as exc:  # noqa: BLE001 - report GX/driver failures as one line, no password
                raise MigrationError(f"validation of phase {number} {name} on {describe(dsn)} could not run: "
                                     f"{first_line(exc)}") from None
            for vr in outcome.run_results.values():
                table = tables.get(vr.suite_name)
                for r in vr.results:
                    counts[0] += 1
                    if r.success:
                        counts[1] += 1
                    else:
                        failed.append(failure(r, table))
    except BaseException:
        _drop_targets()  # after a failure, nothing half-built is reused
        raise
    finally:
        for kept in _targets.values():
            kept.dispose()  # GX keeps connection pools per datasource: close them, or they leak
    return counts[0], counts[1]
