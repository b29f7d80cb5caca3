"""The layers import one way: cli -> flows -> tasks -> tenant_migrate (the engine); flows reach the engine only
through tasks; backend_contract imports nothing of the migration. Read from the code's own import statements."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tenant_migrate.paths import PROJECT_ROOT

OURS = ("cli", "flows", "tasks", "tenant_migrate", "backend_contract")
# package -> the packages of ours it may import (itself included)
ALLOWED = {
    "cli": {"cli", "flows", "tenant_migrate"},
    "flows": {"flows", "tasks"},
    "tasks": {"tasks", "tenant_migrate"},
    "tenant_migrate": {"tenant_migrate", "backend_contract"},
    "backend_contract": {"backend_contract"},
}
MAX_LINES = 400


def modules() -> list[Path]:
    return sorted(p for package in OURS for p in (PROJECT_ROOT / package).rglob("*.py"))


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
    module.write_text("from cli.main import app\nimport tasks.gate\nfrom . import sibling\n")
    assert {"cli", "tasks"} == imported_packages(module)
