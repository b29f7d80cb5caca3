"""What each phase creates (sql/<phase>/objects.toml), held against the live catalog: create, adopt or refuse.

An object that is absent is created. One that is there already and fits what the plan needs is adopted: used
as it is, recorded as adopted, and left exactly as it was by every rollback. One that is there and does not
fit is refused, before anything changes, with what to do about it.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from tenant_migrate.db import LEGACY_TABLES
from tenant_migrate.ownership import Catalog, Key
from tenant_migrate.plan import Phase

# A type the plan wants, and the app's types that serve it as well (read as the same values by our SQL).
COMPATIBLE = {
    "text": {"text", "character varying", "character", "citext"},
    "numeric": {"numeric"},
}


@dataclass(frozen=True)
class Finding:
    """One line of the check: what happens to one object (or one fact of the database) in one phase."""

    phase: int
    verdict: str  # create, adopt, refuse, warn (goes on, but read it), note
    object: str
    text: str = ""
    adopted: Catalog = field(default_factory=dict, compare=False)  # the catalog objects an adoption takes over
    key: Key | None = None  # the object's key in the catalog, when it has one

    def line(self) -> str:
        text = f": {self.text}" if self.text else ""
        return f"{self.verdict.upper():<7} phase {self.phase} {self.object}{text}"


@cache
def declared(phase: Phase) -> dict[str, list[dict[str, Any]]]:
    path = phase.folder / "objects.toml"
    with open(path, "rb") as f:
        return tomllib.load(f)


def _base(type_name: str) -> str:
    return re.sub(r"\(.*\)", "", type_name).strip()


def fits(wanted: str, found: str) -> bool:
    """Does an app column of type `found` serve where the plan wants `wanted`?"""
    return found == wanted or _base(found) in COMPATIBLE.get(_base(wanted), set())


def _columns(cat: Catalog, table: str) -> dict[str, str]:
    return {name: detail for (kind, t, name), detail in cat.items() if kind == "column" and t == table}


def _on_table(cat: Catalog, table: str) -> Catalog:
    """The catalog objects that belong to a table (for an adopted table: all of it is the app's)."""
    return {k: v for k, v in cat.items() if k[1] == table or k == ("table", "", table)}


def _index_columns(definition: str) -> list[str]:
    match = re.search(r"USING \w+ \((.*)\)", definition)
    return [c.strip() for c in match.group(1).split(",")] if match else []


def _index_anywhere(cat: Catalog, name: str) -> tuple[Key, str] | None:
    return next(((k, v) for k, v in cat.items() if k[0] == "index" and k[2] == name), None)


def _relation(cat: Catalog, name: str) -> str | None:
    """The relkind of a relation of that name in public (table, view, ...), or 'S' / 'i' for a sequence or index."""
    if ("table", "", name) in cat:
        return cat[("table", "", name)]
    if ("sequence", "", name) in cat:
        return "S"
    return "i" if _index_anywhere(cat, name) else None


def review_table(phase: int, spec: dict[str, Any], cat: Catalog) -> list[Finding]:
    return [_keyed(f, ("table", "", spec["name"])) for f in _review_table(phase, spec, cat)]


def _keyed(finding: Finding, key: Key) -> Finding:
    return Finding(finding.phase, finding.verdict, finding.object, finding.text, finding.adopted, key)


def _review_table(phase: int, spec: dict[str, Any], cat: Catalog) -> list[Finding]:
    name, what = spec["name"], f"table {spec['name']}"
    kind = _relation(cat, name)
    taken = [i for i in spec.get("indexes", []) if (found := _index_anywhere(cat, i)) and found[0][1] != name]
    if kind is None:
        if taken:
            return [Finding(phase, "refuse", what, f"the plan creates it with the index {taken[0]}, a name an index "
                                                   f"of table {_index_anywhere(cat, taken[0])[0][1]} "  # type: ignore[index]
                                                   "has: rename that index")]
        return [Finding(phase, "create", what)]
    if kind not in ("r", "p"):
        return [Finding(phase, "refuse", what, f"the name is taken by a {'view' if kind in 'vm' else 'relation'} "
                                               f"of the app's: rename it (ALTER ... RENAME TO ...)")]
    have = _columns(cat, name)
    wanted = dict(c.split(" ", 1) for c in spec["columns"])
    wanted |= {c: cat.get(("column", referenced, "id"), wanted[c]) for c, referenced in spec.get("keys", {}).items()}
    missing = [f"{c} {t}" for c, t in wanted.items() if c not in have or not fits(t, have[c])]
    constraints = {v for (k, t, _), v in cat.items() if k == "constraint" and t == name}
    absent = [c for c in spec.get("constraints", []) if c not in constraints]
    required = [c for c in have if c not in wanted and ("not_null", name, c) in cat and ("default", name, c) not in cat]
    if missing or absent or required:
        shape = ", ".join(f"{c} {t}" for c, t in have.items())
        problem = (f"it lacks {', '.join(missing[:4])}" if missing else
                   f"it lacks the constraint {absent[0]}" if absent else
                   f"its column {required[0]} is NOT NULL without a default, which the plan's rows would not fill")
        return [Finding(phase, "refuse", what, f"the app has a table {name} ({shape}) that is not the plan's: "
                                               f"{problem}; rename the app's table (ALTER TABLE {name} RENAME TO "
                                               "...) or drop it")]
    return [Finding(phase, "adopt", what, "it has every column and constraint of the plan's; used as it is",
                    _on_table(cat, name))]


def review_column(phase: int, spec: dict[str, Any], cat: Catalog) -> list[Finding]:
    return [_keyed(f, ("column", spec["table"], spec["name"])) for f in _review_column(phase, spec, cat)]


def _review_column(phase: int, spec: dict[str, Any], cat: Catalog) -> list[Finding]:
    table, name, wanted = spec["table"], spec["name"], spec["type"]
    what, key = f"column {table}.{name}", ("column", table, name)
    if ("table", "", table) not in cat:
        return []  # a missing legacy table is the preflight's to report
    if key not in cat:
        return [Finding(phase, "create", what, wanted)]
    found = cat[key]
    if spec.get("adoptable") and fits(wanted, found):
        return [Finding(phase, "adopt", what, f"the app's {found} serves as {wanted}; used as it is, kept by rollback",
                        {key: found})]
    why = ("the plan adds it as the tenant id; a column of that name is the app's own data, never a tenant id"
           if not spec.get("adoptable") else f"the plan needs {wanted}; {found} does not serve")
    return [Finding(phase, "refuse", what, f"exists as {found}: {why}; rename the app's column (ALTER TABLE {table} "
                                           f"RENAME COLUMN {name} TO ...)")]


def review_constraint(phase: int, spec: dict[str, Any], cat: Catalog) -> list[Finding]:
    return [_keyed(f, ("constraint", spec["table"], spec["name"])) for f in _review_constraint(phase, spec, cat)]


def _review_constraint(phase: int, spec: dict[str, Any], cat: Catalog) -> list[Finding]:
    table, name, definition = spec["table"], spec["name"], spec["definition"]
    what, key = f"constraint {table}.{name}", ("constraint", table, name)
    if ("table", "", table) not in cat:
        return []
    if key in cat:
        if cat[key] == definition:
            return [Finding(phase, "adopt", what, f"the app's {definition} is the plan's; used as it is",
                            {k: v for k, v in cat.items() if k in (key, ("index", table, name))})]
        return [Finding(phase, "refuse", what, f"exists as {cat[key]}, the plan needs {definition}: rename the app's "
                                               f"constraint (ALTER TABLE {table} RENAME CONSTRAINT {name} TO ...)")]
    index = _index_anywhere(cat, name)
    if index and definition.startswith(("UNIQUE", "PRIMARY")):
        return [Finding(phase, "refuse", what, f"its index would be named {name}, which an index of table "
                                               f"{index[0][1]} has: rename that index (ALTER INDEX {name} RENAME TO "
                                               "...)")]
    return [Finding(phase, "create", what, definition)]


def review_index(phase: int, spec: dict[str, Any], cat: Catalog) -> list[Finding]:
    return [_keyed(f, ("index", spec["table"], spec["name"])) for f in _review_index(phase, spec, cat)]


def _review_index(phase: int, spec: dict[str, Any], cat: Catalog) -> list[Finding]:
    table, name, columns = spec["table"], spec["name"], spec["columns"]
    what = f"index {name} on {table} ({', '.join(columns)})"
    found = _index_anywhere(cat, name)
    if found is None:
        return [Finding(phase, "create", what)] if _relation(cat, name) is None else \
            [Finding(phase, "refuse", what, "the name is taken by another relation of the app's: rename it")]
    (_, on_table, _), definition = found
    if on_table == table and _index_columns(definition)[:len(columns)] == columns and "INVALID" not in definition:
        return [Finding(phase, "adopt", what, f"the app's index covers it ({definition}); used as it is, kept by "
                                              "rollback", {found[0]: definition})]
    return [Finding(phase, "refuse", what, f"an index of that name exists: {definition}; rename it (ALTER INDEX "
                                           f"{name} RENAME TO ...)")]


def review_function(phase: int, spec: dict[str, Any], cat: Catalog) -> list[Finding]:
    key, what = ("function", "", spec["signature"]), f"function {spec['signature']}"
    if key in cat:
        return [Finding(phase, "refuse", what, f"the app has a function of that name, which phase {phase} would "
                                               f"replace: rename it (ALTER FUNCTION {spec['signature']} RENAME TO ...)",
                        key=key)]
    return [Finding(phase, "create", what, key=key)]


def review_policy(phase: int, spec: dict[str, Any], cat: Catalog) -> list[Finding]:
    taken = sorted(t for (kind, t, name) in cat if kind == "policy" and name == spec["name"])
    mine = [t for t in taken if t in LEGACY_TABLES]
    if mine:
        return [Finding(phase, "refuse", f"policy {spec['name']} on {mine[0]}",
                        f"the app has a policy of that name on {mine[0]}, where phase 8 creates its own: rename it "
                        f"(ALTER POLICY {spec['name']} ON {mine[0]} RENAME TO ...)")]
    return [Finding(phase, "create", f"policy {spec['name']} on every tenant table")]


def review_role(phase: int, spec: dict[str, Any], cat: Catalog, unsafe_roles: set[str]) -> list[Finding]:
    name, what = spec["name"], f"role {spec['name']}"
    if name in unsafe_roles:
        return [Finding(phase, "refuse", what, "exists and bypasses row-level security (superuser or BYPASSRLS): "
                                               f"ALTER ROLE {name} NOSUPERUSER NOBYPASSRLS")]
    if ("role", "", name) in cat:
        return [Finding(phase, "adopt", what, "exists; used as it is (roles belong to the cluster)",
                        {("role", "", name): ""})]
    return [Finding(phase, "create", what, "NOLOGIN; stays after rollback (roles belong to the cluster)")]


def review_phase(target: Phase, cat: Catalog, unsafe_roles: set[str]) -> list[Finding]:
    """Every object the phase creates, looked up in the catalog."""
    spec, n = declared(target), target.number
    findings = [f for s in spec.get("table", []) for f in review_table(n, s, cat)]
    findings += [f for s in spec.get("column", []) for f in review_column(n, s, cat)]
    findings += [f for s in spec.get("constraint", []) for f in review_constraint(n, s, cat)]
    findings += [f for s in spec.get("index", []) for f in review_index(n, s, cat)]
    findings += [f for s in spec.get("function", []) for f in review_function(n, s, cat)]
    findings += [f for s in spec.get("policy", []) for f in review_policy(n, s, cat)]
    findings += [f for s in spec.get("role", []) for f in review_role(n, s, cat, unsafe_roles)]
    return findings
