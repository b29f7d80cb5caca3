"""The error an operator can act on."""

from __future__ import annotations


class MigrationError(Exception):
    """An error the operator can act on; its message is one line (what is wrong, then what to do) and never
    holds a password."""


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
