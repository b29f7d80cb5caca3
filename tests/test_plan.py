"""The plan (sql/plan.toml), the phases' SQL folders and the suites agree, in both directions."""

from __future__ import annotations

import json
import re

import pytest

from tenant_migrate.errors import MigrationError
from tenant_migrate.paths import SQL_DIR, SUITES_DIR
from tenant_migrate.plan import MODES, last_plan_phase, load_plan, phase

PHASES = load_plan()
NAMES = [p.name for p in PHASES]
PHASE_FOLDER = re.compile(r"^\d\d_[a-z0-9_]+$")


def suite_query_files(name: str) -> set[str]:
    """The query files a suite references ({"$file": ...}), relative to expectations/."""
    suite = json.loads((SUITES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    return {value["$file"] for exp in suite["expectations"] for value in exp["kwargs"].values()
            if isinstance(value, dict) and "$file" in value}


def test_phases_are_numbered_in_order_and_named_after_their_number():
    assert list(range(1, len(PHASES) + 1)) == [p.number for p in PHASES]
    assert all(p.name.startswith(f"{p.number:02d}_") for p in PHASES)


def test_every_phase_has_its_sql_folder_with_up_and_down_steps():
    for p in PHASES:
        assert p.steps("up"), f"sql/{p.name}/up has no step"
        assert p.steps("down"), f"sql/{p.name}/down has no step"
        assert {step.mode for step in p.steps("up") + p.steps("down")} <= set(MODES)


def test_every_phase_folder_under_sql_is_a_phase_of_the_plan():
    folders = sorted(d.name for d in SQL_DIR.iterdir() if d.is_dir() and PHASE_FOLDER.match(d.name))
    assert NAMES == folders


def test_a_phase_folder_holds_its_steps_and_the_objects_it_creates():
    for p in PHASES:
        assert {"up", "down", "objects.toml"} == {d.name for d in p.folder.iterdir()}, p.name


def test_every_step_names_its_phase_and_direction_in_its_header():
    for p in PHASES:
        for direction in ("up", "down"):
            for step in p.steps(direction):
                assert step.sql.startswith(f"-- {p.name} / {direction} / {step.name}"), step.path


def test_every_phase_has_its_suite_and_every_suite_is_a_phase():
    suites = sorted(f.stem for f in SUITES_DIR.glob("*.json"))
    assert NAMES == suites
    for name in NAMES:
        assert name == json.loads((SUITES_DIR / f"{name}.json").read_text(encoding="utf-8"))["name"]


def test_every_query_file_of_expectations_is_used_and_every_reference_exists():
    referenced = {f for name in NAMES for f in suite_query_files(name)}
    on_disk = {str(f.relative_to(SUITES_DIR)) for f in SUITES_DIR.rglob("*.sql")}
    assert referenced == on_disk
    for name in NAMES:
        own = {f for f in suite_query_files(name) if not f.startswith("shared/")}
        assert all(f.startswith(f"{name}/") for f in own), name


def test_a_query_folder_of_expectations_is_a_phase_or_shared():
    folders = {d.name for d in SUITES_DIR.iterdir() if d.is_dir()}
    assert folders <= {*NAMES, "shared"}


def test_shared_queries_are_shared():
    users: dict[str, set[str]] = {}
    for name in NAMES:
        for f in suite_query_files(name):
            users.setdefault(f, set()).add(name)
    lonely = sorted(f for f, names in users.items() if f.startswith("shared/") and len(names) < 2)
    assert [] == lonely


def test_only_phases_after_the_plan_are_beyond_it():
    beyond = [p.number for p in PHASES if p.beyond_plan]
    assert beyond == list(range(last_plan_phase() + 1, len(PHASES) + 1))


def test_a_phase_number_outside_the_plan_is_one_line():
    with pytest.raises(MigrationError, match=f"there is no phase {len(PHASES) + 1}: the plan has phases 1 to "):
        phase(len(PHASES) + 1)
