"""Where the project's files are: the SQL of the migration, the suites, the default output folders."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = PROJECT_ROOT / "sql"
SUITES_DIR = PROJECT_ROOT / "expectations"


def read_sql(relative_path: str) -> str:
    """The text of a file under sql/."""
    return (SQL_DIR / relative_path).read_text(encoding="utf-8")
