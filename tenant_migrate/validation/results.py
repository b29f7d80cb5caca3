"""What a validation found, in words: one line per failing expectation and one per phase."""

from __future__ import annotations

import json
from typing import Any

from tenant_migrate.errors import first_line

MAX_ROWS_SHOWN = 5


def describe_expectation(cfg: Any) -> str:
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


def failure(result: Any, table: str | None) -> dict[str, Any]:
    cfg = result.expectation_config
    res = result.result or {}
    entry: dict[str, Any] = {"expectation": describe_expectation(cfg), "type": cfg.type,
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
