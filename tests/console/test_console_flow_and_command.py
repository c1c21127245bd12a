"""The console's flow page under a live reload (the last reload and its result, `dialflow
check` findings), `dialflow console DIR` over recorded calls without a server, and what the
browser tests say when the browser is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.console import kit
from tests.console.kit import TOKEN, LiveServer, console_token, write_hostile_log
from tests.server.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def flow_page(server: LiveServer) -> str:
    answer = httpx.get(server.url + "/console/flow", headers=AUTH, timeout=30)
    assert answer.status_code == 200
    return answer.text


def until_page_says(server: LiveServer, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        page = flow_page(server)
        if text in page or time.monotonic() > deadline:
            return page
        time.sleep(0.3)


def test_the_flow_page_shows_reloads_their_result_and_the_check_findings(
        tmp_path: Path) -> None:
    flow = tmp_path / "flows.yaml"
    original = (ROOT / "flows.yaml").read_text(encoding="utf-8")
    flow.write_text(original, encoding="utf-8")
    with console_token(), LiveServer(tmp_path, flow=flow) as server:
        page = flow_page(server)
        assert "none since the server started" in page
        assert "dialflow check: no findings" in page
        assert 'id="state&#45;listening"' in page  # the diagram, ids to highlight ("-" as
        # Graphviz writes it in SVG: the browser reads `state-listening`)

        flow.write_text(original.replace("initial: greeting", "initial: nowhere_at_all"),
                        encoding="utf-8")
        page = until_page_says(server, "refused")
        assert "last refused edit" in page and "nowhere_at_all" in page
        assert "version 1 kept serving" in page
        assert 'id="findings"' in page and "nowhere_at_all" in page  # check, on the file

        flow.write_text(original.replace("Bright Smile Dental front desk",
                                         "Bright Smile Dental, evenings"), encoding="utf-8")
        page = until_page_says(server, "version 2 took over")
        assert "version 2 took over" in page and "Bright Smile Dental, evenings" in page
        assert "dialflow check: no findings" in page


def test_dialflow_console_serves_recorded_calls_without_a_server(tmp_path: Path) -> None:
    write_hostile_log(tmp_path / "data" / "calls")
    port = free_port()
    env = {**os.environ, "DIALFLOW_CONSOLE_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "engine.app.cli", "console", str(tmp_path / "data"), "--port",
         str(port), "--flow", str(ROOT / "flows.yaml")], cwd=tmp_path, env=env,
        stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = httpx.get(url + "/console", headers=AUTH, timeout=5)
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.stderr.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert answer.status_code == 200
        assert "Past calls (1)" in answer.text and "hostile-0123456789abcdef" in answer.text
        assert httpx.get(url + "/console").status_code == 401
        call = httpx.get(url + "/console/calls/hostile-0123456789abcdef", headers=AUTH)
        assert call.status_code == 200 and "<script>window" not in call.text
        flow = httpx.get(url + "/console/flow", headers=AUTH)
        assert "not known without a server" in flow.text and "state&#45;greeting" in flow.text
    finally:
        process.terminate()
        process.wait(30)


def test_a_missing_browser_fails_the_test_saying_what_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(kit, "Path", lambda *_: Path("/nonexistent/chromedriver"))
    with pytest.raises(pytest.fail.Exception) as failed:
        kit.chrome()
    assert "apt-get install chromium chromium-driver" in str(failed.value)
