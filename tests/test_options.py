"""tenant_migrate/options.py: one rule per run option, for the command line and the flows' parameters; a bad
value is one line (what is wrong, what to do), before anything runs."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tenant_migrate.cli.main import app
from tenant_migrate.errors import MigrationError
from tenant_migrate.options import check_migrate_options, check_rollback_options
from tenant_migrate.plan import load_plan

GOOD = {"to": None, "approval": "manual", "approval_timeout_s": 60, "batch_size": 10_000, "lock_timeout_ms": 200,
        "poll_interval": 5, "acceptance_load_tenants": 4, "acceptance_load_seconds": 5.0}
LAST = len(load_plan())

BAD_MIGRATE = [
    ({"batch_size": 0}, "batch size 0 is out of range: give 1 to 100,000 rows per backfill transaction"),
    ({"batch_size": 1_000_000}, "batch size 1000000 is out of range: give 1 to 100,000 rows"),
    ({"lock_timeout_ms": 5}, "lock timeout 5 ms is too small: give at least 10 ms"),
    ({"to": 0}, f"there is no phase 0: the plan has phases 1 to {LAST}"),
    ({"to": LAST + 1}, f"there is no phase {LAST + 1}: the plan has phases 1 to {LAST}"),
    ({"approval": "yes"}, "approval must be manual or auto, not 'yes'"),
    ({"approval_timeout_s": 0}, "approval timeout 0 s is too small: give at least 1 s"),
    ({"poll_interval": 0}, "poll interval 0 s is too small: give at least 1 s"),
    ({"acceptance_load_seconds": 0}, "acceptance load seconds must be more than 0, not 0"),
    ({"acceptance_load_tenants": 0}, "acceptance load tenants must be at least 1, not 0"),
]


@pytest.mark.parametrize("bad, message", BAD_MIGRATE, ids=lambda x: str(x) if isinstance(x, dict) else "")
def test_a_bad_migrate_option_is_one_line(bad, message):
    with pytest.raises(MigrationError, match="^" + message.replace("(", r"\(").replace(")", r"\)")) as caught:
        check_migrate_options(**(GOOD | bad))
    assert "\n" not in str(caught.value)


def test_good_options_and_the_limits_pass():
    """The CLI used to want a batch size of 100 or more, the flow any: one rule now, 1 to 100,000."""
    check_migrate_options(**(GOOD | {"batch_size": 1, "lock_timeout_ms": 10, "to": LAST, "approval_timeout_s": 1}))
    check_migrate_options(**(GOOD | {"batch_size": 100_000, "approval_timeout_s": None}))
    check_rollback_options(to=0, approval="auto", approval_timeout_s=None)


@pytest.mark.parametrize("to", [-1, LAST + 1])
def test_a_rollback_target_out_of_the_plan_is_one_line(to):
    message = rf"^cannot roll back to phase {to}: choose 0 \(legacy schema\) to {LAST}$"
    with pytest.raises(MigrationError, match=message):
        check_rollback_options(to=to, approval="manual", approval_timeout_s=60)


@pytest.mark.parametrize("args, message", [
    (["migrate", "--batch-size", "0"], "error: batch size 0 is out of range"),
    (["migrate", "--lock-timeout-ms", "9"], "error: lock timeout 9 ms is too small: give at least 10 ms"),
    (["migrate", "--approval-timeout", "0"], "error: approval timeout 0 s is too small"),
    (["migrate", "--approval", "maybe"], "error: approval must be manual or auto, not 'maybe'"),
    (["migrate", "--to", "99"], "error: there is no phase 99"),
    (["rollback", "--to", "99"], "error: cannot roll back to phase 99"),
    (["migrate", "--lag-budget-s", "0"], "error: the replica-lag budget must be above 0 s, not 0.0"),
    (["migrate", "--lock-wait-budget-ms", "5"], "error: the app lock-wait budget must be at least 10 ms, not 5"),
    (["rollback", "--to", "0", "--budget-ceiling", "0.5"],
     "error: the ceiling is a multiple of the budgets, at least 1, not 0.5"),
    (["migrate", "--app-latency-budget-ms", "-5"], "error: the app-latency budget must be 0 (no pacing) or more ms"),
    (["acceptance", "--load-tenants", "0"], "error: acceptance load tenants must be at least 1, not 0"),
    (["acceptance", "--load-seconds", "0"], "error: acceptance load seconds must be more than 0, not 0"),
])
def test_the_cli_checks_options_by_the_same_rules_before_anything_runs(args, message, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nowhere")  # never reached
    gated = args[0] != "acceptance" and "--approval" not in args
    result = CliRunner().invoke(app, [*args, "--approval", "auto"] if gated else args)
    assert (1, message) == (result.exit_code, result.stderr[:len(message)])
    assert 1 == result.stderr.count("\n")
