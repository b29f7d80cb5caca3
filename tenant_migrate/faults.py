"""Deterministic crash points for the fault-injection tests (tests/test_faults.py).

`checkpoint(name)` does nothing unless $TENANT_MIGRATE_KILL_AT names this point: `name` kills at its
first hit, `name#k` at its k-th hit. Then the process SIGKILLs itself, as a pod eviction or an OOM
kill would: no exception handler, `finally` or atexit runs, and its connections simply drop.
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter

KILL_AT_ENV = "TENANT_MIGRATE_KILL_AT"
_hits: Counter[str] = Counter()


def checkpoint(name: str) -> None:
    target = os.environ.get(KILL_AT_ENV)
    if not target:
        return
    _hits[name] += 1
    if target in (name, f"{name}#{_hits[name]}"):
        sys.stderr.write(f"fault injection: SIGKILL at {target}\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
