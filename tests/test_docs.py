"""The documentation holds together: every relative link of README.md, docs/*.md and the READMEs under sql/ reaches
a file, and its #anchor a heading of that file (GitHub's anchors); the README stays a short page (at most 250
lines) from which every page of docs/ is linked; and a path of the repository named in a comment, a docstring or a
page (`tenant_migrate/faults.py`, `sql/acceptance/`) is there: a file moved is a file renamed everywhere."""

from __future__ import annotations

import re
from pathlib import Path

from tenant_migrate.paths import PROJECT_ROOT
from tenant_migrate.plan import load_plan

README_MAX_LINES = 250
LINK = re.compile(r"\]\(([^)\s]+)\)")  # [text](target) and ![alt](target)
FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# a path under one of the repository's folders, not a pattern (sql/0*/..., sql/<phase>/...)
FOLDERS = "benchmarks|docs|expectations|flows|sql|tasks|tenant_migrate|tests"
PATH = re.compile(rf"(?<![\w/.-])((?:{FOLDERS})/[\w./-]*\w)(?![\w*<{{])")
GENERATED = ("benchmarks/results",)  # written by the benchmarks, git-ignored
# A phase's SQL files are frozen once released (their sha256 is in every ledger that applied them): a stale comment
# there stays. tasks/checklist.py is tenant_migrate/acceptance/ now.
FROZEN = {"sql/07_performance_indexes/up/01_create_indexes.sql": {"tasks/checklist.py"}}


def pages() -> list[Path]:
    return [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md")),
            *sorted((PROJECT_ROOT / "sql").rglob("README.md"))]


def prose(path: Path) -> str:
    """The page without its code: a link or a heading inside a code block or span is none."""
    return INLINE_CODE.sub("", FENCE.sub("", path.read_text(encoding="utf-8")))


def anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces as hyphens, a repeated
    one numbered -1, -2, ..."""
    found: set[str] = set()
    for line in FENCE.sub("", path.read_text(encoding="utf-8")).splitlines():
        if heading := re.match(r"#{1,6}\s+(.*)", line):
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.group(1)).strip().lower()
            slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
            n = 0
            while (candidate := slug if n == 0 else f"{slug}-{n}") in found:
                n += 1
            found.add(candidate)
    return found


def dead_links(path: Path) -> list[str]:
    """The relative links of the page that reach no file, or no heading of it."""
    dead = []
    for target in LINK.findall(prose(path)):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in anchors(linked)):
            dead.append(target)
    return dead


def test_every_relative_link_reaches_its_file_and_heading() -> None:
    dead = {str(p.relative_to(PROJECT_ROOT)): links for p in pages() if (links := dead_links(p))}
    assert {} == dead


def test_the_readme_is_short_and_links_every_page_of_docs() -> None:
    readme = PROJECT_ROOT / "README.md"
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= README_MAX_LINES
    linked = {(readme.parent / target.partition("#")[0]).resolve() for target in LINK.findall(prose(readme))}
    assert [] == [p.name for p in sorted((PROJECT_ROOT / "docs").glob("*.md")) if p.resolve() not in linked]


def test_the_readmes_table_of_phases_names_every_phase_of_the_plan() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert [f"| {p.number} | `{p.name}` |" for p in load_plan() if f"| {p.number} | `{p.name}` |" not in readme] == []


def test_the_check_sees_a_dead_file_a_dead_anchor_and_skips_code(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## What to do, and when\n\n## What to do, and when\n")
    page = tmp_path / "page.md"
    page.write_text("# Page: the `first` one\n\n[a](other.md#what-to-do-and-when) [b](other.md#what-to-do-and-when-1) "
                    "[c](#page-the-first-one) [d](https://example.com/x) ![e](missing.png) [f](other.md#nowhere)\n\n"
                    "```\n[g](not-checked.md)\n```\n`[h](not-checked-either.md)`\n")
    assert ["missing.png", "other.md#nowhere"] == dead_links(page)


def named_paths(path: Path) -> set[str]:
    return {found.rstrip(".") for found in PATH.findall(path.read_text(encoding="utf-8"))}


def test_every_path_named_in_the_code_and_the_docs_is_there() -> None:
    sources = [p for p in PROJECT_ROOT.rglob("*") if p.suffix in (".py", ".sql", ".md", ".toml", ".yaml")
               and p.is_file() and not {".venv", "reports", "backups", ".tenant-migrate"} & set(p.parts)
               and p.name != "test_docs.py"]  # which names missing paths on purpose
    missing = {}
    for source in sources:
        where = str(source.relative_to(PROJECT_ROOT))
        gone = {named for named in named_paths(source) - FROZEN.get(where, set())
                if not named.startswith(GENERATED) and not (PROJECT_ROOT / named).exists()}
        if gone:
            missing[where] = sorted(gone)
    assert {} == missing


def test_the_path_check_sees_a_moved_file_and_not_a_pattern(tmp_path: Path) -> None:
    module = tmp_path / "example.py"
    module.write_text('"""See tasks/faults.py (moved), sql/plan.toml, sql/0*/up/*.sql and sql/<phase>/down/."""\n')
    assert {"tasks/faults.py", "sql/plan.toml"} == named_paths(module)
