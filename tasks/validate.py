"""Great Expectations validation of a phase: one suite per phase in expectations/<phase name>.json.

Plain functions; the runner/flow and the CLI call them. Great Expectations takes ~3 s to import,
so it is imported lazily, once per process, by the first validation (never at CLI startup).

How a suite runs:
- An ephemeral GX context (nothing written next to the suites), progress bars off.
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
import time
import warnings
from pathlib import Path
from typing import Any

from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from tasks.db import PROJECT_ROOT, MigrationError, connection, describe, first_line
from tasks.plan import load_plan, phase

log = logging.getLogger("tenant_migrate.validate")

SUITES_DIR = PROJECT_ROOT / "expectations"
DEFAULT_REPORTS_DIR = PROJECT_ROOT / "reports" / "gx"
DEFAULT_ADMIN_EMAIL = "admin@swiftreplies.ai"
PARAMS_ASSET = "parameters"
DOCS_SITE = "tenant_migrate"
MAX_ROWS_SHOWN = 5

_gx_modules: dict[str, Any] = {}


def _gx() -> Any:
    """great_expectations, imported once per process (the import costs ~3 s)."""
    if "gx" not in _gx_modules:
        started = time.perf_counter()
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        import great_expectations as gx  # noqa: PLC0415 - lazy on purpose

        _gx_modules["gx"] = gx
        log.debug("imported great_expectations in %.1f s", time.perf_counter() - started)
    return _gx_modules["gx"]


# --- the plan and the suite files -------------------------------------------------------------------

def phase_names() -> dict[int, str]:
    """Phase number -> name, from the plan."""
    return {p.number: p.name for p in load_plan()}


def phase_name(number: int) -> str:
    return phase(number).name


def suite_path(name: str) -> Path:
    return SUITES_DIR / f"{name}.json"


def read_suite_file(name: str) -> dict[str, Any]:
    """The suite's JSON as written, checked for the shape the loader expects."""
    path = suite_path(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MigrationError(f"no expectation suite for phase {name}: {path.relative_to(PROJECT_ROOT)} is missing") \
            from None
    except json.JSONDecodeError as exc:
        raise MigrationError(f"{path.name} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("expectations"), list) or not data["expectations"]:
        raise MigrationError(f"{path.name}: expected an object with a non-empty 'expectations' list")
    if data.get("name") != name:
        raise MigrationError(f"{path.name}: suite name {data.get('name')!r} differs from its file name")
    for i, exp in enumerate(data["expectations"]):
        if not isinstance(exp, dict) or not isinstance(exp.get("type"), str) or not isinstance(exp.get("kwargs"), dict):
            raise MigrationError(f"{path.name}: expectation {i} needs a 'type' string and a 'kwargs' object")
    return data


def load_suite(name: str, data: dict[str, Any] | None = None) -> Any:
    """A gx.ExpectationSuite built from the file; fails loudly if any expectation was not loaded.

    GX drops an expectation whose type it does not know with only a log line (or raises, depending
    on the path); either way a suite must never run with fewer checks than its file lists.
    """
    gx = _gx()
    data = data or read_suite_file(name)
    try:
        suite = gx.ExpectationSuite(name=data["name"], expectations=data["expectations"], meta=data.get("meta") or {})
    except Exception as exc:  # noqa: BLE001 - GX raises many types here; all mean "bad suite file"
        raise MigrationError(f"{name}.json does not load in Great Expectations: {first_line(exc)}") from None
    if len(suite.expectations) != len(data["expectations"]):
        known = {e.expectation_type for e in suite.expectations}
        lost = sorted({e["type"] for e in data["expectations"]} - known) or ["?"]
        raise MigrationError(f"{name}.json lists {len(data['expectations'])} expectations but only "
                             f"{len(suite.expectations)} loaded (unknown type {lost[0]})")
    return suite


# --- connections ----------------------------------------------------------------------------------

def sqlalchemy_url(dsn: str) -> str:
    """A postgresql+psycopg:// URL for GX/SQLAlchemy from any libpq DSN (URL or key=value).

    GX's URL validation wants a host in the netloc: a Unix-socket host goes into ?host=.
    """
    from sqlalchemy.engine import URL  # noqa: PLC0415 - keep CLI startup light

    parts = conninfo_to_dict(dsn)
    host = parts.pop("host", None) or ""
    query = {k: v for k, v in parts.items() if k not in ("user", "password", "port", "dbname")}
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


def params_query(number: int, admin_email: str) -> str:
    """The one-row parameters relation the catalog checks read through {batch}."""
    return sql.SQL("SELECT {}::integer AS phase, {}::text AS admin_email").format(
        sql.Literal(number), sql.Literal(admin_email)).as_string(None)


# --- results --------------------------------------------------------------------------------------

def _describe_expectation(cfg: Any) -> str:
    if getattr(cfg, "description", None):
        return cfg.description
    kwargs = cfg.kwargs or {}
    target = kwargs.get("column") or kwargs.get("column_list") or ""
    return f"{cfg.type}({target})" if target else cfg.type


def _exception_message(result: Any) -> str | None:
    info = result.exception_info or {}
    if info.get("raised_exception"):
        return first_line(Exception(info.get("exception_message") or ""))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return first_line(Exception(value.get("exception_message") or ""))
    return None


def _failure(result: Any, table: str | None) -> dict[str, Any]:
    cfg = result.expectation_config
    res = result.result or {}
    entry: dict[str, Any] = {"expectation": _describe_expectation(cfg), "type": cfg.type,
                             "check": (cfg.meta or {}).get("check")}
    if table:
        entry["table"] = table
    if (error := _exception_message(result)) is not None:
        entry["error"] = error
    if "observed_value" in res:
        entry["observed"] = res["observed_value"]
    if "unexpected_count" in res:
        entry["unexpected_count"] = res["unexpected_count"]
    rows = (res.get("details") or {}).get("unexpected_rows")
    if rows:
        entry["unexpected_rows"] = [{k: _plain(v) for k, v in dict(r).items()} for r in rows[:MAX_ROWS_SHOWN]]
    mismatched = (res.get("details") or {}).get("mismatched")
    if mismatched:
        entry["mismatched"] = mismatched
    return entry


def _plain(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


def failure_text(entry: dict[str, Any]) -> str:
    """One line for a failing expectation: what, where, what was seen."""
    where = f" [{entry['table']}]" if entry.get("table") else ""
    if "error" in entry:
        seen = f"error: {entry['error']}"
    elif "unexpected_rows" in entry:
        seen = f"{entry.get('observed')} unexpected row(s), e.g. {_short(entry['unexpected_rows'][0])}"
    elif "unexpected_count" in entry:
        seen = f"{entry['unexpected_count']} unexpected value(s)"
    elif "mismatched" in entry:
        seen = f"mismatched {_short(entry['mismatched'])}"
    else:
        seen = f"observed {_short(entry.get('observed'))}"
    return f"{entry['expectation']}{where}: {seen}"


def summary_line(result: dict[str, Any]) -> str:
    """One log line for a validation result."""
    verdict = "passed" if result["success"] else "FAILED"
    line = (f"validation of phase {result['phase']} {result['name']} {verdict}: "
            f"{result['passed']}/{result['evaluated']} expectations in {result['seconds']:.1f} s")
    if result["failed"]:
        first = result["failed"][0]
        line += f"; failing: {first if isinstance(first, str) else failure_text(first)}"
        if len(result["failed"]) > 1:
            line += f" (+{len(result['failed']) - 1} more)"
    return line


# --- running a suite ------------------------------------------------------------------------------

def reports_dir_default() -> Path:
    return Path(os.environ.get("TENANT_MIGRATE_REPORTS_DIR") or DEFAULT_REPORTS_DIR).resolve()


def validate_phase(dsn: str, number: int, *, reports_dir: str | Path | None = None, docs: bool = True,
                   admin_email: str | None = None) -> dict[str, Any]:
    """Run phase `number`'s suite against the database now.

    Returns {"phase", "name", "success", "evaluated", "passed", "failed": [...], "seconds",
    "data_docs"}; each failed entry names the expectation, its table, and what was observed.
    Data Docs (HTML) go to reports_dir (default $TENANT_MIGRATE_REPORTS_DIR or reports/gx) unless
    docs=False. admin_email is what phase 3 must have set (default $TENANT_MIGRATE_ADMIN_EMAIL or the
    plan's). The password never reaches the result or the Data Docs.
    """
    name = phase_name(number)
    data = read_suite_file(name)
    gx = _gx()  # imported once per process; its ~3 s is not counted in "seconds"
    started = time.perf_counter()
    admin_email = admin_email or os.environ.get("TENANT_MIGRATE_ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL
    existing = _existing_tables(dsn)  # fails with one line if the database is unreachable

    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415

    load_suite(name, data)  # the count check, on the whole file
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    datasource = context.data_sources.add_postgres(name="target", connection_string=sqlalchemy_url(dsn))

    # group the expectations by the batch they run on, in file order
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for exp in data["expectations"]:
        groups.setdefault((exp.get("meta") or {}).get("table"), []).append(exp)

    failed: list[dict[str, Any]] = []
    evaluated = passed = 0
    validation_defs = {"catalog": [], "tables": []}
    for table, exps in groups.items():
        if table is not None and table not in existing:
            for exp in exps:  # a missing table fails each of its checks, without asking GX
                evaluated += 1
                failed.append({"expectation": exp.get("description") or exp["type"], "type": exp["type"],
                               "check": (exp.get("meta") or {}).get("check"), "table": table,
                               "error": f"table public.{table} does not exist"})
            continue
        if table is None:
            asset = datasource.add_query_asset(name=PARAMS_ASSET, query=params_query(number, admin_email))
        else:
            with warnings.catch_warnings():  # GX 1.24 deprecates schema_name; public must stay explicit
                warnings.simplefilter("ignore", DeprecationWarning)
                asset = datasource.add_table_asset(name=table, table_name=table, schema_name="public")
        suite_name = name if table is None else f"{name}.{table}"
        suite = context.suites.add(load_suite(suite_name, {"name": suite_name, "expectations": exps}))
        vd = context.validation_definitions.add(gx.ValidationDefinition(
            name=suite_name, data=asset.add_batch_definition_whole_table("whole"), suite=suite))
        validation_defs["catalog" if table is None else "tables"].append((table, vd))

    docs_path = None
    actions = []
    if docs:
        site_dir = Path(reports_dir).resolve() if reports_dir else reports_dir_default()
        site_dir.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(site_name=DOCS_SITE, site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(site_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}})
        actions = [gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[DOCS_SITE])]
        docs_path = str(site_dir / "index.html")

    # catalog checks return their (few) unexpected rows; table checks only counts and samples
    for kind, result_format in (("catalog", "COMPLETE"), ("tables", "SUMMARY")):
        if not validation_defs[kind]:
            continue
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name=f"{name}.{kind}", validation_definitions=[vd for _, vd in validation_defs[kind]],
            actions=actions, result_format={"result_format": result_format}))
        try:
            outcome = checkpoint.run()
        except Exception as exc:  # noqa: BLE001 - report GX/driver failures as one line, no password
            raise MigrationError(f"validation of phase {number} {name} on {describe(dsn)} could not run: "
                                 f"{first_line(exc)}") from None
        tables = {vd.name: table for table, vd in validation_defs[kind]}
        for vr in outcome.run_results.values():
            table = tables.get(vr.suite_name)
            for r in vr.results:
                evaluated += 1
                if r.success:
                    passed += 1
                else:
                    failed.append(_failure(r, table))

    datasource.get_engine().dispose()  # GX keeps a connection pool per datasource: close it, or it leaks
    result = {"phase": number, "name": name, "success": not failed and evaluated == len(data["expectations"]),
              "evaluated": evaluated, "passed": passed, "failed": failed,
              "seconds": round(time.perf_counter() - started, 3), "data_docs": docs_path}
    log.info(summary_line(result))
    return result
