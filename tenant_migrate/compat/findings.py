"""What a phase does to the app's statements: the ones it breaks, the ones whose meaning it changes without an
error, and the fix where we know it; as one-line findings and as a section of the phase's go/no-go gate."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from tenant_migrate.compat.prepare import Check
from tenant_migrate.compat.statements import Statement
from tenant_migrate.evidence import md_code, md_text

Checks = dict[tuple[str, int], Check]
Kind = Literal["breaks", "changes meaning", "confined"]  # fails after the phase; works but means else; now per tenant
TENANT_GRANT = ("GRANT tenant_legacy TO {role} (legacy code: it then sees tenant 1), or tenant_app if it names its "
                "tenant per transaction (SELECT public.app_set_tenant(...)))")
LOOKUP = ("looks up {table} by {column} without the tenant: one row today, possibly another tenant's once a "
          "second tenant has the same {column}")
LOOKUP_FIX = ("add AND user_id = $n (the backend contract's tenant form), or connect as a role granted tenant_legacy "
              "(confined to tenant 1 from phase 8); on a table of the app's without user_id, keep the value unique "
              "across tenants (--keep-global-unique) or namespace its keys by tenant")


@dataclass(frozen=True)
class StatementFinding:
    kind: Kind
    phase: int  # 0: a phase applied before this check
    phase_name: str
    statement: Statement
    detail: str
    fix: str = ""

    def line(self) -> str:
        fix = f"; fix: {self.fix}" if self.fix else ""
        when = f"at phase {self.phase} {self.phase_name}" if self.phase else "already (a phase applied earlier)"
        return f"{self.kind} {when}: {self.statement.short()} ({self.statement.usage()}): {self.detail}{fix}"

    def bullet(self) -> str:
        fix = f" **Fix:** {md_text(self.fix)}" if self.fix else ""
        return f"- {md_code(self.statement.short(160))} ({self.statement.usage()}): {md_text(self.detail)}.{fix}"


def _arbiter_fix(statement: Statement, _match: re.Match[str]) -> str:
    target = re.search(r"ON\s+CONFLICT\s*\(([^)]*)\)", statement.query, re.IGNORECASE)
    columns = target.group(1).strip() if target else "..."
    return (f"ON CONFLICT (user_id, {columns}), or ON CONFLICT DO NOTHING and read the row back "
            "(what backend_contract.get_or_create_contact does)")


# error text -> the fix we know (each from a hazard of this migration)
KNOWN_FIXES: list[tuple[re.Pattern[str], Callable[[Statement, re.Match[str]], str]]] = [
    (re.compile(r"no unique or exclusion constraint matching the ON CONFLICT"), _arbiter_fix),
    (re.compile(r'column reference "(\w+)" is ambiguous'),
     lambda s, m: f"qualify {m.group(1)} with its table: this phase added a column of that name to another "
                  "table of the statement"),
    (re.compile(r"permission denied for (?:table|relation|sequence|view) (\w+)"),
     lambda s, m: f"GRANT role {s.role} what it needs on {m.group(1)}"),
]


def fix_for(statement: Statement, error: str) -> str:
    for pattern, fix in KNOWN_FIXES:
        if match := pattern.search(error):
            return fix(statement, match)
    return ""


def compare(statements: Iterable[Statement], before: Checks, after: Checks, phase: int,
            phase_name: str) -> list[StatementFinding]:
    """The findings of one phase: each statement checked before it and after it."""
    found = []
    for s in statements:
        b, a = before.get(s.key), after.get(s.key)
        if b is None or a is None or b.status != "ok" or a.status not in ("ok", "fails"):
            continue

        def finding(kind: Kind, detail: str, fix: str = "", s: Statement = s) -> StatementFinding:
            return StatementFinding(kind, phase, phase_name, s, detail, fix)

        if a.status == "fails":
            found.append(finding("breaks", a.reason, fix_for(s, a.reason)))
            continue
        if a.no_tenant and not b.no_tenant:
            found.append(finding("breaks", f"it prepares, but row-level security applies and role {s.role} has no "
                                           "tenant: it sees no rows and its writes are refused",
                                 TENANT_GRANT.format(role=s.role)))
        if a.columns != b.columns:
            found.append(finding("changes meaning", _columns(b.columns, a.columns),
                                 "name the columns it needs instead of *" if "*" in s.query else ""))
        for lookup in sorted(set(a.lookups) - set(b.lookups)):
            table, column = lookup.split(".")
            found.append(finding("changes meaning", LOOKUP.format(table=table, column=column), LOOKUP_FIX))
        for lookup in sorted(set(b.lookups) - set(a.lookups)):
            found.append(finding("confined", f"its lookup by {lookup} is now confined to its role's tenant "
                                             "(row-level security)"))
    return found


def _columns(before: tuple[str, ...], after: tuple[str, ...]) -> str:
    added = [c for c in after if c not in before]
    removed = [c for c in before if c not in after]
    text = f"returns {len(after)} columns instead of {len(before)}"
    text += f" (new: {', '.join(added)})" if added else ""
    return text + (f" (gone: {', '.join(removed)})" if removed else "")


def unchecked(statements: Iterable[Statement], checks: Checks) -> list[tuple[Statement, str]]:
    """The statements this check cannot judge, with why (a utility command, a type the planner cannot infer, a
    role it cannot act as, a statement that fails already)."""
    left = [(s, checks[s.key]) for s in statements if s.key in checks]
    return [(s, c.reason if c.status == "unchecked" else f"fails already: {c.reason}") for s, c in left
            if c.status in ("unchecked", "fails")]


def unconfined(statements: Iterable[Statement], checks: Checks) -> list[StatementFinding]:
    """The lookups without the tenant that the schema allows already (an earlier phase changed their meaning)."""
    return [StatementFinding("changes meaning", 0, "", s, LOOKUP.format(table=t, column=c), LOOKUP_FIX)
            for s in statements if s.key in checks
            for t, c in (lookup.split(".") for lookup in checks[s.key].lookups)]


def unchecked_line(statement: Statement, reason: str) -> str:
    return f"unchecked: {statement.short()} ({statement.usage()}): {reason}"


def summary(statements: list[Statement], checks: Checks, findings: list[StatementFinding]) -> str:
    """'27 app statements (about 41,000 calls a day): 1 breaking, 2 changing meaning, 20 fine, 3 unchecked, ...'."""
    judged = {f.statement.key for f in findings if f.kind != "confined"}
    broken = {f.statement.key for f in findings if f.kind == "breaks"}
    meaning = {f.statement.key for f in findings if f.kind == "changes meaning"} - broken
    status = [checks[s.key].status for s in statements if s.key in checks]
    fine = sum(1 for s in statements if s.key in checks and checks[s.key].status == "ok" and s.key not in judged)
    a_day = round(sum(s.calls_a_day for s in statements))
    return (f"{len(statements)} app statements (about {a_day:,} calls a day): {len(broken)} breaking, "
            f"{len(meaning)} changing meaning, {fine} fine, {status.count('unchecked') + status.count('fails')} "
            f"unchecked, {status.count('session')} transaction or session statements (unaffected)")


def gate_section(statements: list[Statement], checks: Checks, findings: list[StatementFinding], note: str = "") -> str:
    """The markdown section of a phase's go/no-go gate."""
    lines = ["#### App statements (from pg_stat_statements)"]
    if note:
        return "\n".join([*lines, md_text(note)])
    breaks = [f for f in findings if f.kind == "breaks"]
    if breaks:
        a_day = round(sum(s.calls_a_day for s in {f.statement for f in breaks}))
        count = len({f.statement.key for f in breaks})
        lines += [f"**{count} app statement{'s' if count != 1 else ''}, about {a_day:,} calls a day, "
                  f"fail{'s' if count == 1 else ''} after this phase:**", *(f.bullet() for f in breaks)]
    else:
        lines.append("No app statement fails after this phase.")
    for kind, title in (("changes meaning", "change meaning without an error"),
                        ("confined", "are now confined to their tenant")):
        these = [f for f in findings if f.kind == kind]
        if these:
            lines += ["", f"**{len(these)} {title}:**", *(f.bullet() for f in these)]
    left = unchecked(statements, checks)
    if left:
        shown = [f"- {md_code(s.short(120))} ({s.usage()}): {md_text(reason)}" for s, reason in left[:5]]
        more = [f"- and {len(left) - 5} more (see `tenant-migrate compat`)"] if len(left) > 5 else []
        lines += ["", f"{len(left)} not checked (listed, not hidden):", *shown, *more]
    lines += ["", summary(statements, checks, findings) + ", prepared as the roles that ran them."]
    return "\n".join(lines)
