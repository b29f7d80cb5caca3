"""An operator approves a phase in the real Prefect UI, in headless Chromium driven by Playwright.

A Prefect server with its UI, a manual `migrate` run paused at the phase-1 gate (in its own process,
as a deployment's worker would run it), then: open the run's page, click Resume, read the go/no-go
evidence in the dialog, flip approve, type a name, submit. The phase goes on and the ledger has the name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest
from conftest import need_program

from tenant_migrate import ledger
from tenant_migrate.db import connection
from tenant_migrate.paths import PROJECT_ROOT

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, what: str):  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(autouse=True)
def chromium() -> None:
    """Before the other fixtures start a server: without Chromium, the test skips (or fails in CI), saying why."""
    need_program(CHROMIUM, "chromium")


@pytest.fixture
def prefect_server(tmp_path):
    port = free_port()
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(healthy, 120, "the Prefect server")
        yield f"http://127.0.0.1:{port}", env
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_an_operator_approves_the_gate_in_the_prefect_ui(legacy_db, prefect_server):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    ui, env = prefect_server
    script = ("from tenant_migrate.flows.migrate import migrate; "
              f"migrate(database={legacy_db!r}, to=1, approval='manual', backups=False, data_docs=False, "
              "poll_interval=1)")
    run = subprocess.Popen([sys.executable, "-c", script], env=env, cwd=PROJECT_ROOT,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def paused_run() -> str | None:
            runs = httpx.post(f"{ui}/api/flow_runs/filter", timeout=10,
                              json={"flow_runs": {"state": {"type": {"any_": ["PAUSED"]}}}}).json()
            return runs[0]["id"] if runs else None

        run_id = wait_for(paused_run, 180, "the run to pause at the gate")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync"])
            page = browser.new_page(viewport={"width": 1280, "height": 1000})
            page.goto(f"{ui}/runs/flow-run/{run_id}")
            page.get_by_role("button", name="Resume").click()
            dialog = page.get_by_role("dialog")
            dialog.get_by_text("Backup completed and verified").wait_for(timeout=30_000)
            assert "Phase validated" in dialog.inner_text()
            assert "Next:" in dialog.inner_text()
            dialog.get_by_role("switch").first.click()
            dialog.locator("textarea").first.fill("dba on call")
            (PROJECT_ROOT / "reports").mkdir(exist_ok=True)
            page.screenshot(path=str(PROJECT_ROOT / "reports" / "approval-dialog.png"))  # kept for the record
            dialog.get_by_role("button", name="Submit").click()

            def resumed() -> bool:  # the UI sends the answer after the click: the page stays open until it has
                return "PAUSED" != httpx.get(f"{ui}/api/flow_runs/{run_id}", timeout=10).json()["state"]["type"]

            wait_for(resumed, 60, "the run to leave the gate after Submit")
            browser.close()
        assert 0 == run.wait(timeout=180)
    finally:
        if run.poll() is None:
            run.kill()
    with connection(legacy_db) as conn:
        first = ledger.latest_runs(conn)[1]
    assert ("approved", "dba on call") == (first["decision"], first["approved_by"])
