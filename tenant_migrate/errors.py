"""The errors an operator can act on: `MigrationError` and the kinds a caller decides by, each carrying its data.

Every message is one line (what is wrong, then what to do) and never holds a password; the wording is the
operator's, the attributes are the caller's (docs/architecture.md, "Errors"). Callers decide by type, never by
message text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tenant_migrate.check.objects import Finding


class MigrationError(Exception):
    """An error the operator can act on; its message is one line (what is wrong, then what to do) and never
    holds a password."""

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its attributes (a Prefect result may be): a subclass's __init__ takes them by keyword."""
        return _rebuilt, (type(self), self.args, self.__dict__)


def _rebuilt(cls: type[MigrationError], args: tuple[Any, ...], attributes: dict[str, Any]) -> MigrationError:
    exc = cls.__new__(cls)
    exc.args = args
    exc.__dict__.update(attributes)
    return exc


class LockHeld(MigrationError):
    """Another session holds the migration's advisory lock: a migration (or restore) runs or waits at a gate."""

    def __init__(self, message: str, *, holder: str) -> None:
        super().__init__(message)
        self.holder = holder  # "pid 123, psql, connected ..." or "another session"


class LockLost(MigrationError):
    """The session holding the migration lock is gone, or no longer holds it."""


class GuardStopped(MigrationError):
    """The guard stopped the phase at a budget's ceiling or after too long a pause; the phase stays resumable."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class OutOfOrder(MigrationError):
    """Phases are applied in order and rolled back newest first: `phase` must wait for phase `first` (None: no
    phase is applied to roll back)."""

    def __init__(self, message: str, *, phase: int, first: int | None) -> None:
        super().__init__(message)
        self.phase, self.first = phase, first


class Drift(MigrationError):
    """The SQL of an applied phase changed since it was applied (`file`: the first changed file, under sql/)."""

    def __init__(self, message: str, *, phase: int, file: str) -> None:
        super().__init__(message)
        self.phase, self.file = phase, file


class PhaseFailed(MigrationError):
    """A phase's run failed at a step (the ledger says so); `cause` is the error that stopped it."""

    def __init__(self, message: str, *, phase: int, step: str | None, cause: Exception) -> None:
        super().__init__(message)
        self.phase, self.step, self.cause = phase, step, cause


class PreflightRefused(MigrationError):
    """A phase's read-only checks refused it before anything changed."""

    def __init__(self, message: str, *, phase: int, problems: list[str]) -> None:
        super().__init__(message)
        self.phase, self.problems = phase, problems


class ConflictError(MigrationError):
    """The whole-plan check refuses the plan on this database (`findings`: its refusals); nothing was changed."""

    def __init__(self, message: str, *, findings: list[Finding]) -> None:
        super().__init__(message)
        self.findings = findings


class ValidationFailed(MigrationError):
    """A phase's expectation suite failed (`failing`: the failing expectations, as the gate words them)."""

    def __init__(self, message: str, *, phase: int, failing: list[str]) -> None:
        super().__init__(message)
        self.phase, self.failing = phase, failing


class GateRefused(MigrationError):
    """A go/no-go gate said no (or nobody answered): the flow stopped after undoing what the no-go undoes."""

    def __init__(self, message: str, *, phase: int, direction: Literal["up", "down"], verdict: str) -> None:
        super().__init__(message)
        self.phase, self.direction, self.verdict = phase, direction, verdict


class GateTimedOut(GateRefused):
    """No go/no-go before the approval timeout (Prefect itself then words the run's state "never resumed")."""


class LedgerUntrusted(MigrationError):
    """The ledger (tenant_migrate schema) could be written by others, or holds rows the migration did not write."""

    def __init__(self, message: str, *, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class PoolerRefused(MigrationError):
    """The DSN leads to a pooler in transaction or statement mode (or one that cannot lend a second connection)."""

    def __init__(self, message: str, *, mode: str) -> None:
        super().__init__(message)
        self.mode = mode  # transaction, statement, or session (a session pool too small)


class BackupError(MigrationError):
    """A backup cannot be taken or is not whole (missing file, checksum, unreadable archive)."""


class BackupDamaged(BackupError):
    """A backup on disk is not whole: `file` (relative to its folder) is missing, extra, changed or unreadable."""

    def __init__(self, message: str, *, file: str) -> None:
        super().__init__(message)
        self.file = file


class RestoreRefused(MigrationError):
    """A restore refused before changing anything: the wrong target, the wrong backup, or no confirmation."""


class RestoreUnconfirmed(RestoreRefused):
    """A restore that would go ahead with --yes; `rows_lost`: per table, the rows written since the backup that it
    would lose (empty for a restore into a new database)."""

    def __init__(self, message: str, *, rows_lost: dict[str, int]) -> None:
        super().__init__(message)
        self.rows_lost = rows_lost


class NotOwned(MigrationError):
    """A statement touched what the migration does not own (the app's objects, or another session's) and was stopped
    (`problems`: one phrase per object)."""

    def __init__(self, message: str, *, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
