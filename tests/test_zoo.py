"""The schema zoo: legacy databases that differ from the demo the way production databases do (tests/zoo/*.sql,
each applied on top of the demo's legacy schema and data).

A variant expected to migrate: the whole-plan check refuses nothing (and adopts what it says); the migration
goes to the last phase (each phase validated by its suite where the variant asks); the content fingerprint of
every table of the app's, over its own columns, is unchanged, so no trigger of the app's fired and no value of
the app's changed; the rollback to phase 0 gives back the same catalog and the same content.
A variant expected to be refused: the check names each conflict on one line, a migration stops before any
change, and the database is exactly as it was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import clone_legacy

from tenant_migrate import demo, fingerprint, ownership, runner
from tenant_migrate.db import connection
from tenant_migrate.dsn import database_name
from tenant_migrate.errors import MigrationError
from tenant_migrate.plan import default_target, load_plan
from tenant_migrate.validation.checkpoints import validate_phase

ZOO = Path(__file__).parent / "zoo"
HEADER = re.compile(r"^--\s*(expect|refuses|adopts|ways|validate):\s*(.+?)\s*$", re.MULTILINE)


@dataclass
class Variant:
    path: Path
    expect: str = "migrates"
    refuses: list[str] = field(default_factory=list)
    adopts: list[str] = field(default_factory=list)
    ways: list[str] = field(default_factory=lambda: ["instant"])
    validate: bool = False

    @property
    def name(self) -> str:
        return self.path.stem


def variant(path: Path) -> Variant:
    found = Variant(path)
    for key, value in HEADER.findall(path.read_text(encoding="utf-8")):
        if key == "expect":
            found.expect = value
        elif key == "ways":
            found.ways = value.split()
        elif key == "validate":
            found.validate = value == "all"
        else:
            getattr(found, key).append(value)
    return found


VARIANTS = [variant(p) for p in sorted(ZOO.glob("*.sql"))]
MIGRATING = [(v, way) for v in VARIANTS if v.expect == "migrates" for way in v.ways]
REFUSED = [v for v in VARIANTS if v.expect == "refused"]


@pytest.fixture
def zoo_db(pg_server: str, legacy_template: str, request: pytest.FixtureRequest):
    """A legacy database with the variant applied (as the superuser that created the template)."""
    zoo: Variant = request.param
    dsn = clone_legacy(pg_server, legacy_template)
    with connection(dsn) as conn:
        conn.execute(zoo.path.read_text(encoding="utf-8"))
    yield dsn
    demo.drop_database(pg_server, database_name(dsn))


def catalog(dsn: str) -> ownership.Catalog:
    """Every object of the public schema, and the tenant roles' memberships (the roles themselves may stay)."""
    with connection(dsn) as conn:
        return {k: v for k, v in ownership.catalog(conn).items() if k[0] != "role"}


def test_the_zoo_has_at_least_twelve_variants_of_both_kinds():
    assert len(VARIANTS) >= 12
    assert MIGRATING and REFUSED


@pytest.mark.slow
@pytest.mark.parametrize(("zoo_db", "way"), MIGRATING, ids=[f"{v.name}-{w}" for v, w in MIGRATING],
                         indirect=["zoo_db"])
def test_a_variant_migrates_and_rolls_back_leaving_the_app_as_it_was(zoo_db: str, way: str, request):
    zoo: Variant = request.node.callspec.params["zoo_db"]
    settings = runner.Settings(backfill=way)
    _, findings = runner.check(zoo_db, backfill=way)
    assert [] == [f.line() for f in findings if f.verdict == "refuse"]
    adopted = [f.object for f in findings if f.verdict == "adopt" and not f.object.startswith("role ")]
    assert sorted(zoo.adopts) == sorted(adopted)
    shape, before = catalog(zoo_db), fingerprint.take(zoo_db)

    for target in load_plan()[:default_target()]:  # phase 9 is Citus only
        runner.migrate(zoo_db, to=target.number, settings=settings)
        if zoo.validate:
            result = validate_phase(zoo_db, target.number, docs=False)
            assert result["success"], result["failed"]
    assert [] == fingerprint.differences(before, fingerprint.take(zoo_db, before.columns))

    runner.rollback(zoo_db, 0)
    assert shape == catalog(zoo_db)
    assert [] == fingerprint.differences(before, fingerprint.take(zoo_db))


@pytest.mark.parametrize("zoo_db", REFUSED, ids=[v.name for v in REFUSED], indirect=True)
def test_a_variant_is_refused_before_any_change_one_line_per_conflict(zoo_db: str, request):
    zoo: Variant = request.node.callspec.params["zoo_db"]
    shape, before = catalog(zoo_db), fingerprint.take(zoo_db)
    _, findings = runner.check(zoo_db)
    refused = [f.line() for f in findings if f.verdict == "refuse"]
    for expected in zoo.refuses:
        assert [line for line in refused if re.search(expected, line)], (expected, refused)
    assert all("\n" not in line for line in refused)
    with pytest.raises(MigrationError, match="^check: phase .* nothing was changed$"):
        runner.migrate(zoo_db)
    assert shape == catalog(zoo_db)
    assert [] == fingerprint.differences(before, fingerprint.take(zoo_db))
    with connection(zoo_db) as conn:
        assert conn.execute("SELECT to_regnamespace('tenant_migrate')").fetchone() == (None,)
