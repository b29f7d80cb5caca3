"""The suite files: expectations/<phase>.json with their query files, loaded into Great Expectations.

Great Expectations takes ~3 s to import, so it is imported lazily, once per process, by the first
validation (never at CLI startup).
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any, ClassVar

from tenant_migrate.errors import MigrationError, first_line
from tenant_migrate.paths import PROJECT_ROOT, SUITES_DIR
from tenant_migrate.plan import load_plan, phase

log = logging.getLogger("tenant_migrate.validate")

_gx_modules: dict[str, Any] = {}


def gx_module() -> Any:
    """great_expectations, imported once per process (the import costs ~3 s)."""
    if "gx" not in _gx_modules:
        started = time.perf_counter()
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        import great_expectations as gx  # noqa: PLC0415 - lazy on purpose

        _gx_modules["gx"] = gx
        log.debug("imported great_expectations in %.1f s", time.perf_counter() - started)
    return _gx_modules["gx"]


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
        exp["kwargs"] = {key: _with_file(path, value) for key, value in exp["kwargs"].items()}
    return data


def _with_file(suite: Path, value: Any) -> Any:
    """A kwarg as Great Expectations takes it: {"$file": "<folder>/<name>.sql"} becomes that file's text."""
    if not (isinstance(value, dict) and "$file" in value):
        return value
    path = SUITES_DIR / str(value["$file"])
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise MigrationError(f"{suite.name}: query file expectations/{value['$file']} is missing") from None


def load_suite(name: str, data: dict[str, Any] | None = None) -> Any:
    """A gx.ExpectationSuite built from the file; fails loudly if any expectation was not loaded.

    GX drops an expectation whose type it does not know with only a log line (or raises, depending
    on the path); either way a suite must never run with fewer checks than its file lists.
    """
    gx = gx_module()
    _unexpected_rows_expectation_class(gx)  # registers expect_query_to_return_no_rows
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


def _unexpected_rows_expectation_class(gx: Any) -> type:
    """ExpectQueryToReturnNoRows, defined (and so registered with GX) once per process."""
    if "no_rows" not in _gx_modules:
        gxe = gx.expectations

        class ExpectQueryToReturnNoRows(gxe.UnexpectedRowsExpectation):  # type: ignore[name-defined]
            """UnexpectedRowsExpectation that runs its query once instead of twice.

            GX's own version resolves two metrics, unexpected_rows_query.table (the rows, at most
            200) and unexpected_rows_query.row_count (a count(*) over the same query), so every
            query runs twice. This one depends only on the table metric and counts the rows it
            returned: success is unchanged (no row at all), but observed_value is the number of
            rows returned, CAPPED AT GX's 200 (MAX_RESULT_RECORDS): "200" means "200 or more".
            Registered as type expect_query_to_return_no_rows, the name the suite files use.
            """

            metric_dependencies: ClassVar[tuple[str, ...]] = ("unexpected_rows_query.table",)

            def _validate(self, metrics: dict, runtime_configuration: dict | None = None,
                          execution_engine: Any = None) -> dict:
                rows = metrics["unexpected_rows_query.table"]
                result_format = self._get_result_format(runtime_configuration=runtime_configuration)
                if isinstance(result_format, dict):
                    result_format = result_format.get("result_format", "SUMMARY")
                success = not rows
                if result_format == "BOOLEAN_ONLY":
                    return {"success": success}
                result: dict[str, Any] = {"observed_value": len(rows)}
                if result_format == "COMPLETE":
                    result["details"] = {"unexpected_rows": rows}
                return {"success": success, "result": result}

        _gx_modules["no_rows"] = ExpectQueryToReturnNoRows
    return _gx_modules["no_rows"]
