"""The layers import one way: cli -> flows -> tasks -> tenant_migrate (the engine); a flow may also call the engine
(the lock it holds, the loop over pending phases, the gate's ledger record); backend_contract imports nothing of the
migration. Read from the code's own import statements.
And the code stays small: no module over 400 lines, no function over 60 (benchmarks included; tests are not held
to it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tenant_migrate.paths import PROJECT_ROOT

OURS = ("cli", "flows", "tasks", "tenant_migrate", "backend_contract")
# package -> the packages of ours it may import (itself included)
ALLOWED = {
    "cli": {"cli", "flows", "tenant_migrate"},
    "flows": {"flows", "tasks", "tenant_migrate"},
    "tasks": {"tasks", "tenant_migrate"},
    "tenant_migrate": {"tenant_migrate", "backend_contract"},
    "backend_contract": {"backend_contract"},
}
MAX_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    return sorted(p for package in OURS for p in (PROJECT_ROOT / package).rglob("*.py"))


def function_lengths(path: Path) -> dict[str, int]:
    """Lines of each function of the module, from its `def` to its last line (a nested function counts in its
    own line and in its parent's)."""
    lengths: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
            lengths[node.name] = max(lengths.get(node.name, 0), node.end_lineno - node.lineno + 1)
    return lengths


def imported_packages(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & set(OURS)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_a_module_imports_only_its_own_layer_and_those_below(path: Path) -> None:
    package = path.relative_to(PROJECT_ROOT).parts[0]
    assert set() == imported_packages(path) - ALLOWED[package]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_module_is_over_400_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("from cli.main import app\nimport tasks.apply\nfrom . import sibling\n")
    assert {"cli", "tasks"} == imported_packages(module)


def test_no_function_is_over_60_lines() -> None:
    sources = [*modules(), *sorted((PROJECT_ROOT / "benchmarks").glob("*.py"))]
    long = {(str(path.relative_to(PROJECT_ROOT)), name): lines for path in sources
            for name, lines in function_lengths(path).items() if lines > MAX_FUNCTION_LINES}
    assert {} == long


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("def short():\n    pass\n\n\nasync def long():\n" + "    pass\n" * 60)
    assert {"short": 2, "long": 61} == function_lengths(module)
