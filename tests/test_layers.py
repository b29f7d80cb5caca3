"""The layers import one way: cli -> flows -> tasks -> the engine (the rest of the `tenant_migrate` package); a flow
may also call the engine (the lock it holds, the loop over pending phases, the gate's ledger record);
backend_contract imports nothing of the migration. Read from the code's own import statements. One package is
installed, `tenant_migrate`: `flows/` and `tasks/` stay at the top of the repository (the project's layout) and are
its sub-packages through the links `tenant_migrate/flows` and `tenant_migrate/tasks`.
And the code stays small: no module over 400 lines, no function over 60 (benchmarks included; tests are not held
to it)."""

from __future__ import annotations

import ast
from importlib.metadata import distribution
from pathlib import Path

import pytest

from tenant_migrate.paths import PROJECT_ROOT

PACKAGE = "tenant_migrate"
LAYERS = ("cli", "flows", "tasks", "backend_contract")  # sub-packages of the package; the rest of it is the engine
# layer -> the layers it may import (itself included)
ALLOWED = {
    "cli": {"cli", "flows", "engine"},
    "flows": {"flows", "tasks", "engine"},
    "tasks": {"tasks", "engine"},
    "engine": {"engine", "backend_contract"},
    "backend_contract": {"backend_contract"},
}
MAX_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    """Each module once, at its real path (the package reaches flows/ and tasks/ through links)."""
    folders = (PROJECT_ROOT / PACKAGE, PROJECT_ROOT / "flows", PROJECT_ROOT / "tasks")
    return sorted({p.resolve() for folder in folders for p in folder.rglob("*.py")})


def layer(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    name = parts[1] if parts[0] == PACKAGE else parts[0]
    return name if name in LAYERS else "engine"


def function_lengths(path: Path) -> dict[str, int]:
    """Lines of each function of the module, from its `def` to its last line (a nested function counts in its
    own line and in its parent's)."""
    lengths: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
            lengths[node.name] = max(lengths.get(node.name, 0), node.end_lineno - node.lineno + 1)
    return lengths


def imported_modules(path: Path) -> list[list[str]]:
    """The modules the module imports, as dotted parts; `from tenant_migrate import db` is ["tenant_migrate", "db"]."""
    found: list[list[str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [alias.name.split(".") for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            found += [parts + [alias.name] for alias in node.names] if len(parts) == 1 else [parts]
    return found


def imported_layers(path: Path) -> set[str]:
    """The layers of ours the module imports: `tenant_migrate.flows...` is flows, `tenant_migrate.db` the engine."""
    return {parts[1] if parts[1:] and parts[1] in LAYERS else "engine"
            for parts in imported_modules(path) if parts[0] == PACKAGE}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_a_module_imports_only_its_own_layer_and_those_below(path: Path) -> None:
    assert set() == imported_layers(path) - ALLOWED[layer(path)]


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_no_module_is_over_400_lines(path: Path) -> None:
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("from tenant_migrate.cli.main import app\nimport tenant_migrate.tasks.apply\n"
                      "from tenant_migrate import backend_contract, db\nfrom . import sibling\nimport tasks\n")
    assert {"cli", "tasks", "backend_contract", "engine"} == imported_layers(module)


def test_nothing_imports_a_layer_by_a_top_level_name_the_package_does_not_install() -> None:
    sources = [*modules(), *(PROJECT_ROOT / "benchmarks").glob("*.py"), *(PROJECT_ROOT / "tests").rglob("*.py")]
    assert {} == {str(path.relative_to(PROJECT_ROOT)): found for path in sources
                  if (found := {parts[0] for parts in imported_modules(path)} & set(LAYERS))}


def test_one_package_is_installed_and_it_reaches_flows_and_tasks_at_the_top_of_the_repository() -> None:
    assert ["tenant_migrate"] == distribution("tenant-migrate").read_text("top_level.txt").split()
    for folder in ("flows", "tasks"):
        link = PROJECT_ROOT / PACKAGE / folder
        assert (link.is_symlink(), PROJECT_ROOT / folder) == (True, link.resolve())


def test_no_function_is_over_60_lines() -> None:
    sources = [*modules(), *sorted((PROJECT_ROOT / "benchmarks").glob("*.py"))]
    long = {(str(path.relative_to(PROJECT_ROOT)), name): lines for path in sources
            for name, lines in function_lengths(path).items() if lines > MAX_FUNCTION_LINES}
    assert {} == long


def test_the_check_sees_a_long_function(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text("def short():\n    pass\n\n\nasync def long():\n" + "    pass\n" * 60)
    assert {"short": 2, "long": 61} == function_lengths(module)
