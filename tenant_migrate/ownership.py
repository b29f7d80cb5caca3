"""What the migration owns, and the rule that it touches nothing else (docs/ownership.md).

A statement run in a transaction is checked in its own REPEATABLE READ snapshot: the runner reads the catalog
(sql/ownership/objects.sql) before and after it in that snapshot, where no other session's commit is visible. What
appeared was created by the statement itself, what disappeared was dropped by it, and an object whose catalog row
has a new version was changed by it; an app deploying beside the migration changes none of that. What the statement
created is recorded in tenant_migrate.owned_objects with its identity (oid). A statement outside a transaction
(CONCURRENTLY) may only build or drop one named index: a build is marked 'pending' before it starts and recorded
once PostgreSQL built it in this session; a drop is checked before it runs. A notice that IF NOT EXISTS skipped an
object that is neither the migration's nor adopted means another session made it: the statement stops the phase.

An object that was there before the migration belongs to the app: no statement may drop or change it, except an
object a phase saved first to give it back on rollback (phase 5's single-column uniques); a violation rolls the
statement back and stops the phase. A down step may only remove objects the migration created (the very objects:
same identity, never one of the catalog before phase 1), and may only create objects it gives back (saved ones).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import psycopg
from psycopg import errors
from psycopg.pq import TransactionStatus

from tenant_migrate import ledger
from tenant_migrate.errors import LedgerUntrusted, NotOwned, first_line
from tenant_migrate.paths import read_sql

T = TypeVar("T")
Key = tuple[str, str, str]  # kind, table ('' for none), name
Catalog = dict[Key, str]  # key -> detail
Notice = tuple[str, str]  # a notice of the server: SQLSTATE, message
SKIPPED = {"42P07", "42701", "42710", "42P06"}  # the SQLSTATEs of IF NOT EXISTS skipping an object that is there
READ_ATTEMPTS = 5
STOPPED = ("the migration touches only what it owns; the statement was stopped (a CONCURRENTLY statement cannot be "
           "undone: see tenant-migrate status)")


@dataclass(frozen=True)
class Obj:
    """One object of the catalog: its detail (None when another session dropped it while the snapshot still shows
    it), its identity, and the version (xmin) of the catalog row its detail comes from."""

    detail: str | None
    objid: int
    objsub: int
    version: str


Objects = dict[Key, Obj]


class ConcurrentChange(Exception):
    """Another session changed a catalog row that this statement changed too (the snapshot shows both versions):
    the statement is retried, like a lock timeout."""


def objects(conn: psycopg.Connection, known: Objects | None = None) -> Objects:
    """The catalog (sql/ownership/objects.sql). With `known`, the catalog read earlier in this same snapshot: an
    object whose catalog row is still the version read then is taken from it as it was (its detail is not deparsed
    again: another session may have dropped what the definition names, and its name may have changed outside the
    snapshot). Two versions of one catalog row mean another session changed a row this transaction changed too:
    ConcurrentChange, and the statement is tried again."""
    earlier = {(k[0], o.objid, o.objsub, o.version): (k, o) for k, o in (known or {}).items() if k[0] != "grant"}
    if known is not None:
        conn.execute("SELECT set_config('tenant_migrate.known', %s, true)",
                     (",".join(f"{kind}:{objid}:{objsub}:{version}" for kind, objid, objsub, version in earlier),))
    try:
        rows = conn.execute(read_sql("ownership/objects.sql")).fetchall()
    except errors.InternalError_ as exc:  # "cache lookup failed for index ...": dropped while it was deparsed
        raise ConcurrentChange(f"another session dropped an object while the catalog was read ({first_line(exc)})") \
            from None
    found: Objects = {}
    versions: dict[tuple[str, int, int], str] = {}
    for kind, table, name, detail, objid, objsub, version in rows:
        if versions.setdefault((kind, objid, objsub), version) != version:
            raise ConcurrentChange(f"another session changed {kind} {table + '.' if table else ''}{name} meanwhile")
        key, obj = earlier.get((kind, objid, objsub, version)) or ((kind, table, name), Obj(detail, objid, objsub,
                                                                                             version))
        found[key] = obj
    return found


def catalog(conn: psycopg.Connection) -> Catalog:
    """The catalog as kind, table, name -> detail, read in a statement of its own (tried again when another session
    dropped an object while it was read)."""
    return {k: o.detail or "" for k, o in retried(conn, lambda: objects(conn)).items()}


def retried(conn: psycopg.Connection, read: Callable[[], T]) -> T:
    """read(), a catalog read outside a transaction, tried again a few times on ConcurrentChange."""
    for attempt in range(1, READ_ATTEMPTS):
        try:
            return read()
        except ConcurrentChange:
            if conn.info.transaction_status != TransactionStatus.IDLE:
                raise
            time.sleep(0.05 * attempt)
    return read()


def label(key: Key) -> str:
    kind, table, name = key
    return f"{kind} {table + '.' if table else ''}{name}"


# what PostgreSQL may write differently for one expression once it has read its own text back (a table rebuilt
# from its definition: a CHECK (x IN (...)) on a varchar column), and that does not change what it means
_REPARSED = re.compile(r"::[a-z ]+(\[\])?|[()]")


def same_definition(before: str | None, after: str | None) -> bool:
    """Two details of one object that say the same thing: equal, or equal but for the casts and parentheses that
    reading a CHECK's text back adds or drops."""
    return before == after or (before is not None and after is not None and before.startswith("CHECK")
                               and _REPARSED.sub("", before) == _REPARSED.sub("", after))


@dataclass(frozen=True)
class Change:
    created: Objects
    vanished: Objects
    changed: dict[Key, tuple[str | None, str | None]]

    @classmethod
    def between(cls, before: Objects, after: Objects, *, by_key: bool = False) -> Change:
        """What one statement did, both catalogs read in its snapshot. A key whose identity changed was dropped and
        made again (by_key: a statement that rebuilds tables under their own names, where the key is what counts);
        a detail that changed without a new row version was changed by another session (a name or definition the
        deparsing functions read outside the snapshot), not by this statement."""
        same = {k for k in before.keys() & after.keys()
                if by_key or (before[k].objid, before[k].objsub) == (after[k].objid, after[k].objsub)}
        return cls(created={k: v for k, v in after.items() if k not in same},
                   vanished={k: v for k, v in before.items() if k not in same},
                   changed={k: (before[k].detail, after[k].detail) for k in same
                            if before[k].version != after[k].version
                            and not same_definition(before[k].detail, after[k].detail)})


def created_keys(conn: psycopg.Connection) -> set[Key]:
    """Objects the migration created (any phase) and still has."""
    return {tuple(r) for r in conn.execute(
        "SELECT kind, table_name, name FROM tenant_migrate.owned_objects "
        "WHERE ownership = 'created' AND released_at IS NULL")}


@dataclass(frozen=True)
class Claims:
    """What the ledger holds now (sql/ownership/claims.sql)."""

    rows: list[tuple[str, str, str, str, int | None, int | None, int | None, bool]]

    @classmethod
    def read(cls, conn: psycopg.Connection) -> Claims:
        return cls([tuple(r) for r in conn.execute(read_sql("ownership/claims.sql"))])

    def mine(self, found: Objects) -> set[Key]:
        """The objects of `found` the migration created that are still the very objects it created: the identity
        recorded with them is theirs, and it was not in the catalog before phase 1; and the indexes whose build it
        started (pending)."""
        mine = set()
        for kind, table, name, ownership, _, objid, objsub, in_baseline in self.rows:
            obj = found.get((kind, table, name))
            if ownership == "created" and obj is not None and not in_baseline \
                    and (objid is None or (obj.objid, obj.objsub) == (objid, objsub)):
                mine.add((kind, table, name))
        pending = self.names("pending")
        return mine | {k for k in found if k[0] == "index" and k[2] in pending}

    def names(self, *ownerships: str) -> set[str]:
        return {name for _, _, name, ownership, *_ in self.rows if ownership in ownerships}

    def keys(self, *ownerships: str) -> set[Key]:
        return {(kind, table, name) for kind, table, name, ownership, *_ in self.rows if ownership in ownerships}

    @property
    def saved(self) -> set[Key]:
        """App objects a phase dropped after saving them (tenant_migrate.saved_keys)."""
        return self.keys("saved")


def pending_indexes(conn: psycopg.Connection) -> set[str]:
    """Indexes whose CONCURRENTLY build the migration started and has not recorded yet (maybe left INVALID)."""
    return Claims.read(conn).names("pending")


def violations(change: Change, direction: str, mine: set[Key], saved: set[Key]) -> list[str]:
    """What the statement did to objects it may not touch, one phrase each."""
    giving_back = saved if direction == "down" else set()  # a rollback restoring a saved object may finish it
    problems = [f"changed the app's {label(k)} ({was!r} -> {now!r})" for k, (was, now) in change.changed.items()
                if k not in mine and k not in giving_back]
    gone = [k for k in change.vanished if k not in mine and not (direction == "up" and k in saved)]
    problems += [f"dropped the app's {label(k)}" for k in gone]
    # a default or NOT NULL belongs to its column: added to an app column, it changes the app's column
    problems += [f"changed the app's column {table}.{name} (added its {kind.replace('_', ' ')})"
                 for kind, table, name in change.created if kind in ("default", "not_null")
                 and ("column", table, name) not in mine and ("column", table, name) not in change.created]
    if direction == "down":
        problems += [f"created {label(k)}, which a rollback must not" for k in change.created if k not in saved]
    return problems


def _stop(what: str, problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise NotOwned(f"{what} {problems[0]}{more}: {STOPPED}", problems=problems)


def record(conn: psycopg.Connection, *, phase: int, run_id: int, direction: str, before: Objects, after: Objects,
           what: str, notices: list[Notice], rebuilds: bool = False) -> None:
    """Check and record what one statement changed, inside its transaction (before and after: its snapshot).
    rebuilds: the statement rebuilt tables under their own names (a step's `-- rebuilds: tables` header, Citus's
    undistribute_table): it must leave every object as it was, by key and definition (rebuilt); then the ledger's
    identities follow the new objects (sql/ownership/rebind.sql), in the same transaction."""
    change, claims = Change.between(before, after, by_key=rebuilds), Claims.read(conn)
    mine = claims.mine(before) | claims.mine(after)
    if rebuilds:
        _stop(what, rebuilt(change))
        take_identities_again(conn)
    _stop(what, violations(change, direction, mine, claims.saved))
    refuse_skipped(claims, notices, what)
    if direction == "up" and change.created:
        _insert(conn, phase, run_id, "created", change.created)
    gone = [k for k in mine if k not in after or k in change.vanished]
    if gone:
        with conn.cursor() as cur:
            cur.executemany("UPDATE tenant_migrate.owned_objects SET released_at = clock_timestamp() "
                            "WHERE kind = %s AND table_name = %s AND name = %s AND ownership = 'created' "
                            "AND released_at IS NULL", gone)
    if any(r[3] == "pending" and r[4] == phase for r in claims.rows):
        settle_pending(conn, phase, run_id)


def rebuilt(change: Change) -> list[str]:
    """What a statement that rebuilds tables under their own names did besides, one phrase each: by key, every object
    is still there with the same definition (a CHECK may be written anew: same_definition), none is new."""
    return ([f"rebuilt the tables without {label(k)}" for k in change.vanished]
            + [f"rebuilt the tables with {label(k)}, which was not there" for k in change.created]
            + [f"rebuilt {label(k)} as {now!r}, not as it was ({was!r})" for k, (was, now) in change.changed.items()])


def refuse_skipped(claims: Claims, notices: list[Notice], what: str) -> None:
    """Stop when IF NOT EXISTS skipped an object that is not the migration's (created, pending or adopted) nor one
    it gives back: another session made it while the statement waited or ran."""
    skipped = [message for sqlstate, message in notices if sqlstate in SKIPPED]
    known = claims.keys("created", "adopted", "pending", "saved")
    for message in skipped:
        names = re.findall(r'"([^"]+)"', message)  # `relation "x" ...`, `column "c" of relation "t" ...`
        if names:
            ours = any(n == names[0] and (len(names) == 1 or t in ("", names[1])) for _, t, n in known)
        else:  # a translated message: any name of ours in it
            ours = any(re.search(rf"\b{re.escape(n)}\b", message) for _, _, n in known)
        if not ours:
            raise NotOwned(f"{what}: {message}, but it is not the migration's: another session made it while this "
                           "phase ran; the statement was stopped; run `tenant-migrate check` to see how the plan meets "
                           "it, then run again", problems=[message])


def _insert(conn: psycopg.Connection, phase: int, run_id: int, ownership: str, found: Objects) -> None:
    """Record `found` in the order PostgreSQL made it (by oid: a statement that made several objects, such as a
    function and another whose body uses it, is undone newest first, so the one depended on goes last)."""
    in_order = sorted(found.items(), key=lambda item: (item[1].objid, item[1].objsub))
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO tenant_migrate.owned_objects (phase, run_id, kind, table_name, name, detail, ownership, "
            "objid, objsub) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(phase, run_id, kind, table, name, obj.detail or "", ownership, obj.objid, obj.objsub)
             for (kind, table, name), obj in in_order])


def index(conn: psycopg.Connection, name: str, table: int | None = None) -> Objects:
    """The index of that name in public (on the table of that oid), as sql/ownership/objects.sql shows it, or {}."""
    rows = conn.execute(read_sql("ownership/index.sql"), {"name": name, "table": table})
    return {(kind, t, n): Obj(detail, objid, objsub, version) for kind, t, n, detail, objid, objsub, version in rows}


def before_build(conn: psycopg.Connection, *, phase: int, run_id: int, direction: str, name: str, table: int,
                 what: str) -> str:
    """Before CREATE INDEX CONCURRENTLY of index `name` on the table of oid `table`, in a transaction: 'absent' (an
    apply marks it pending, with its table's name and oid), 'present' (IF NOT EXISTS will skip it: it is the
    migration's or adopted, or one a rollback gives back), or 'leftover' (an INVALID index left by an interrupted
    build of the migration's: drop it, then ask again). Anything else stops the statement before it runs."""
    found, claims = index(conn, name, table), Claims.read(conn)
    wanted = {"created", "adopted", "pending"} if direction == "up" else {"saved"}
    held = {o for _, _, n, o, *_ in claims.rows if n == name and o in wanted}
    if found and not held:
        _stop(what, [f"would build index {name}, which another session made (it is not the migration's)"])
    if not held and direction == "down":
        _stop(what, [f"would build index {name}, which a rollback must not (the phase did not save it)"])
    if not found:
        if direction == "up" and "pending" not in held:
            conn.execute("INSERT INTO tenant_migrate.owned_objects (phase, run_id, kind, table_name, name, ownership, "
                         "objid) SELECT %s, %s, 'index', c.relname, %s, 'pending', c.oid FROM pg_class AS c "
                         "WHERE c.oid = %s", (phase, run_id, name, table))
        return "absent"
    invalid = (next(iter(found.values())).detail or "").endswith(" INVALID")
    return "leftover" if invalid and held & {"created", "pending", "saved"} else "present"


def after_build(conn: psycopg.Connection, *, phase: int, run_id: int, direction: str, notices: list[Notice],
                what: str) -> None:
    """After CREATE INDEX CONCURRENTLY: PostgreSQL built the index in this session unless it said IF NOT EXISTS
    skipped it (then it must be one of the migration's: refuse_skipped), so the pending index is now created."""
    refuse_skipped(Claims.read(conn), notices, what)
    if direction == "up":
        settle_pending(conn, phase, run_id)


def before_drop(conn: psycopg.Connection, *, direction: str, name: str, what: str) -> None:
    """Before DROP INDEX CONCURRENTLY: the index must be the migration's (the very index it built, or one whose build
    it started), or one an apply saved first to give it back."""
    found, claims = index(conn, name), Claims.read(conn)
    allowed = claims.mine(found) | (claims.saved if direction == "up" else set())
    _stop(what, [f"dropped the app's {label(k)}" for k in found if k not in allowed])


def after_drop(conn: psycopg.Connection, *, name: str) -> None:
    """After DROP INDEX CONCURRENTLY: the migration's index of that name, gone, is released."""
    if not index(conn, name):
        conn.execute("UPDATE tenant_migrate.owned_objects SET released_at = clock_timestamp() WHERE kind = 'index' "
                     "AND name = %s AND ownership IN ('created', 'pending') AND released_at IS NULL", (name,))


def settle_pending(conn: psycopg.Connection, phase: int, run_id: int) -> None:
    """A pending index of this phase that is now on the table it was marked for is the migration's: its build ran in
    the migration's session (maybe in a process that died before recording it); one still absent stays pending."""
    pending = conn.execute("SELECT id, name, objid FROM tenant_migrate.owned_objects WHERE ownership = 'pending' "
                           "AND phase = %s AND released_at IS NULL", (phase,)).fetchall()
    for row_id, name, table in pending:
        found = index(conn, name, table)
        if found:
            conn.execute("DELETE FROM tenant_migrate.owned_objects WHERE id = %s", (row_id,))
            _insert(conn, phase, run_id, "created", found)


def record_baseline(conn: psycopg.Connection) -> None:
    """The catalog before phase 1, read in one snapshot: all of it is the app's. An object another session dropped
    while it was read (no detail) is left out."""
    def read() -> None:
        try:
            with conn.transaction():
                conn.execute("DELETE FROM tenant_migrate.baseline_objects")
                conn.execute("INSERT INTO tenant_migrate.baseline_objects (kind, table_name, name, detail, objid, "
                             "objsub) SELECT kind, table_name, name, detail, objid, objsub "
                             "FROM tenant_migrate.catalog_objects WHERE detail IS NOT NULL ON CONFLICT DO NOTHING")
        except errors.InternalError_ as exc:
            raise ConcurrentChange(first_line(exc)) from None

    retried(conn, read)


def adopt(conn: psycopg.Connection, phase: int, run_id: int, adopted: Catalog) -> None:
    """Record the app objects a phase uses as they are (never dropped or changed by a rollback), with the identity
    they have now; one another session dropped since the check is left out."""
    known = {tuple(r) for r in conn.execute(
        "SELECT kind, table_name, name FROM tenant_migrate.owned_objects WHERE ownership = 'adopted'")}
    now = retried(conn, lambda: objects(conn))
    _insert(conn, phase, run_id, "adopted", {k: now[k] for k in adopted if k not in known and k in now})


def refuse_untrusted(conn: psycopg.Connection, phases: list[int]) -> None:
    """Before a rollback of `phases` changes anything: refuse when a row of the ledger says one of them created an
    object it cannot have created (sql/ownership/untrusted.sql), or when a definition one of them saved is not what
    it saved (tenant_migrate.saved_verified)."""
    problems = [r[0] for r in conn.execute(read_sql("ownership/untrusted.sql"), {"phases": phases})]
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise LedgerUntrusted(f"ledger: tenant_migrate.owned_objects {problems[0]}{more}: such a row was not written "
                              "by the migration, and a rollback never acts on it; nothing was rolled back; find out "
                              "who changed the ledger, then delete or correct the row (docs/ownership.md)",
                              problems=problems)
    try:
        conn.execute("SELECT count(*) FROM unnest(%s::int[]) AS p, tenant_migrate.saved_verified(p)", (phases,))
    except errors.RaiseException as exc:
        raise LedgerUntrusted(f"{first_line(exc)}; nothing was rolled back", problems=[first_line(exc)]) from None


def rebind(conn: psycopg.Connection) -> None:
    """After the migration restored or copied this database (new oids): take_identities_again, in a transaction."""
    ledger.ensure(conn)
    with conn.transaction():
        take_identities_again(conn)


def take_identities_again(conn: psycopg.Connection) -> None:
    """The ledger's identities taken again by key (sql/ownership/rebind.sql), in the caller's transaction: only right
    after the migration's own restore, copy or rebuild of tables, when names are trusted again."""
    conn.execute(read_sql("ownership/rebind.sql"))


def owned(conn: psycopg.Connection, phase: int | None = None) -> list[dict[str, object]]:
    """The ownership ledger (of one phase), oldest first."""
    cur = conn.execute("SELECT phase, kind, table_name, name, ownership, released_at IS NOT NULL AS released "
                       "FROM tenant_migrate.owned_objects WHERE phase = coalesce(%s, phase) ORDER BY id", (phase,))
    return [dict(zip(("phase", "kind", "table", "name", "ownership", "released"), r, strict=True)) for r in cur]
