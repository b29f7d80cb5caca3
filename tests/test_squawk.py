"""squawk lints every migration step file (sql/0*/{up,down}/*.sql) and every suite query (expectations/**/*.sql);
any report fails the test.

A rule is either fixed in the SQL or ignored for that one statement with the reason beside it
(`-- squawk-ignore <rule> -- <why>`); the two rules the runner itself takes care of (lock_timeout,
statement_timeout) are excluded in .squawk.toml, with the reason there.
squawk cannot parse the `%(lo)s` / `%(hi)s` placeholders of `batched` steps, so those files are
linted with the placeholders replaced by numbers, as the runner will run them; nor Great Expectations'
`{batch}`, so suite queries are linted with it replaced by a relation and their doubled braces undone, as
Great Expectations will run them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STEP_FILES = sorted(ROOT.glob("sql/0*/*/*.sql"))
SUITE_QUERIES = sorted(ROOT.glob("expectations/**/*.sql"))
BATCHED = re.compile(r"^--\s*mode:\s*batched\s*$", re.MULTILINE)


def _squawk() -> str:
    found = Path(sys.executable).with_name("squawk")
    if found.exists():
        return str(found)
    path = shutil.which("squawk")
    if path is None:
        pytest.skip("squawk is not installed (pip install -e '.[dev]')")
    return path


def _run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([_squawk(), "--config", str(ROOT / ".squawk.toml"), "--reporter", "gcc", *args],
                          input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_there_are_step_files() -> None:
    phases = {p.parts[-3] for p in STEP_FILES}
    assert len(phases) >= 7, phases
    assert all((ROOT / "sql" / name / "down").is_dir() for name in phases)


def test_squawk_reports_nothing_on_plain_step_files() -> None:
    plain = [str(p.relative_to(ROOT)) for p in STEP_FILES if not BATCHED.search(p.read_text())]
    result = _run(plain)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.parametrize("path", [p for p in STEP_FILES if BATCHED.search(p.read_text())],
                         ids=lambda p: str(p.relative_to(ROOT / "sql")))
def test_squawk_reports_nothing_on_batched_step(path: Path) -> None:
    text = path.read_text().replace("%(lo)s", "1").replace("%(hi)s", "10001").replace("%%", "%")
    result = _run(["--stdin-filepath", str(path.relative_to(ROOT))], stdin=text)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_there_are_suite_queries() -> None:
    assert len(SUITE_QUERIES) >= 20


@pytest.mark.parametrize("path", SUITE_QUERIES, ids=lambda p: str(p.relative_to(ROOT / "expectations")))
def test_squawk_reports_nothing_on_suite_query(path: Path) -> None:
    text = path.read_text().replace("{batch}", "(SELECT 1 AS phase, 'a' AS admin_email)")
    text = text.replace("{{", "{").replace("}}", "}")
    result = _run(["--stdin-filepath", str(path.relative_to(ROOT))], stdin=text)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
