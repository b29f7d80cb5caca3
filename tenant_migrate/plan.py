"""The migration plan: phases in order (sql/plan.toml) and their step files (sql/<phase>/{up,down}/)."""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from tenant_migrate.errors import MigrationError
from tenant_migrate.paths import SQL_DIR

MODES = ("transaction", "autocommit", "batched", "generated", "undo")
BACKFILLS = ("instant", "batched")  # the two ways through phases 2-4 (sql/README.md)
HEADER = re.compile(r"^--\s*(mode|table|backfill|rows|skip if|rebuilds):\s*(.+?)\s*$", re.MULTILINE)

# What each kind of statement locks, for `tenant-migrate plan` (first match wins).
LOCKS = [
    (r"create_distributed_table\(", "EXCLUSIVE on every table it distributes, until the commit: reads go on, writes "
                                    "wait while the rows are copied to the workers"),
    (r"undistribute_table\(", "every Citus table rebuilt on the coordinator: writes wait while the rows come back, "
                              "reads too while each table is swapped"),
    (r"INDEX\s+CONCURRENTLY", "SHARE UPDATE EXCLUSIVE: reads and writes continue"),
    (r"VALIDATE\s+CONSTRAINT", "SHARE UPDATE EXCLUSIVE (+ ROW SHARE on the referenced table): writes continue"),
    (r"NOT\s+VALID", "ACCESS EXCLUSIVE, brief: no scan"),
    (r"SET\s+NOT\s+NULL", "ACCESS EXCLUSIVE, brief: the validated CHECK spares the scan"),
    (r"USING\s+INDEX", "ACCESS EXCLUSIVE, brief: the index is already built"),
    (r"ALTER\s+TABLE", "ACCESS EXCLUSIVE, brief: catalog-only change"),
    (r"CREATE\s+TABLE", "new table; SHARE ROW EXCLUSIVE, brief, on tables it references"),
    (r"DROP\s+TABLE", "ACCESS EXCLUSIVE on the dropped table (and brief on tables it referenced)"),
    (r"\bUPDATE\b", "ROW EXCLUSIVE + row locks of one batch, released at each commit"),
    (r"\b(INSERT|DELETE)\b", "ROW EXCLUSIVE + row locks of the rows written"),
]


@dataclass(frozen=True)
class Step:
    phase: str
    direction: str
    name: str
    path: Path
    mode: str
    table: str | None
    backfill: str | None = None  # only in this way through phases 2-4; None: in both
    skip_if: str | None = None  # a query whose true answer, read when the step starts, means nothing is left to do
    rebuilds: bool = False  # `-- rebuilds: tables`: it rebuilds tables under their own names (sql/README.md)

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def locks(self) -> list[str]:
        if self.mode == "generated":
            return ["decided from the catalog at run time; each statement runs like a one-statement step"]
        if self.mode == "undo":
            return ["one statement per object this phase created, newest first, each like a one-statement step"]
        body = "\n".join(line for line in self.sql.splitlines() if not line.lstrip().startswith("--"))
        found = []
        for pattern, lock in LOCKS:
            if re.search(pattern, body, re.IGNORECASE) and lock not in found:
                found.append(lock)
        return found or ["no table locks"]


@dataclass(frozen=True)
class Phase:
    number: int
    name: str
    title: str
    summary: str
    risk: str
    plan_duration: str
    rollback: str
    warning: str = ""
    beyond_plan: bool = False  # ours, added after the plan's own phases
    requires: str = ""  # what the server must have (citus); such a phase is applied only when asked for by number

    @property
    def folder(self) -> Path:
        return SQL_DIR / self.name

    def steps(self, direction: str, backfill: str | None = None) -> list[Step]:
        """The phase's steps in one direction, in order; with `backfill`, only those of that way."""
        steps = [_step(self.name, direction, path) for path in sorted((self.folder / direction).glob("*.sql"))]
        return [s for s in steps if backfill is None or s.backfill in (None, backfill)]

    def files(self) -> dict[str, str]:
        """sha256 of each SQL file of the phase, by path relative to sql/."""
        return {str(p.relative_to(SQL_DIR)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(self.folder.rglob("*.sql"))}

    def checksum(self) -> str:
        digest = hashlib.sha256()
        for path, sha in self.files().items():
            digest.update(f"{path}:{sha}\n".encode())
        return digest.hexdigest()


def _step(phase: str, direction: str, path: Path) -> Step:
    headers = dict(HEADER.findall(path.read_text(encoding="utf-8")))
    mode = headers.get("mode", "transaction")
    if mode not in MODES:
        raise MigrationError(f"{path.relative_to(SQL_DIR)}: unknown mode {mode!r} (one of {', '.join(MODES)})")
    if mode == "batched" and "table" not in headers:
        raise MigrationError(f"{path.relative_to(SQL_DIR)}: a batched step needs a '-- table:' header")
    if headers.get("backfill", BACKFILLS[0]) not in BACKFILLS:
        raise MigrationError(f"{path.relative_to(SQL_DIR)}: unknown backfill {headers['backfill']!r} "
                             f"(one of {', '.join(BACKFILLS)})")
    if headers.get("rebuilds", "tables") != "tables" or ("rebuilds" in headers and mode != "transaction"):
        raise MigrationError(f"{path.relative_to(SQL_DIR)}: '-- rebuilds: tables' is the only form of that header, "
                             "in a step of mode transaction")
    return Step(phase, direction, path.stem, path, mode, headers.get("table"), headers.get("backfill"),
                headers.get("skip if"), "rebuilds" in headers)


@cache
def load_plan() -> tuple[Phase, ...]:
    with open(SQL_DIR / "plan.toml", "rb") as f:
        phases = tuple(Phase(**entry) for entry in tomllib.load(f)["phases"])
    if [p.number for p in phases] != list(range(1, len(phases) + 1)):
        raise MigrationError("sql/plan.toml: phases must be numbered 1, 2, 3, ... in order")
    if any(p.requires and not q.requires for p, q in zip(phases, phases[1:], strict=False)):
        raise MigrationError("sql/plan.toml: a phase that requires something of the server comes after all others")
    return phases


def phase(number: int) -> Phase:
    phases = load_plan()
    if not 1 <= number <= len(phases):
        raise MigrationError(f"there is no phase {number}: the plan has phases 1 to {len(phases)}")
    return phases[number - 1]


def default_target() -> int:
    """The last phase `migrate` reaches when not told where to stop: a phase that needs something of the server
    (phase 9: a Citus cluster) is applied only when asked for (`--to 9`)."""
    return max(p.number for p in load_plan() if not p.requires)


def last_plan_phase() -> int:
    """The last phase of the plan itself (the acceptance checklist needs it); phases beyond the plan are ours."""
    return max(p.number for p in load_plan() if not p.beyond_plan)
