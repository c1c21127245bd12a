"""The console in a real browser (headless Chromium through Selenium) while simulated calls
run against a real server on 127.0.0.1: a new call appears in the live list, its current
state is highlighted on the flow diagram and moves on, transcript lines appear, a barge-in
is marked and the agent line it cut off says so, the turn's latency bars render, a past call
replays with the scrubber, and a request without the token is refused. The call page's
screenshot is what README shows (`DIALFLOW_CONSOLE_SCREENSHOT=docs/console.png`)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.console.kit import LONG_REPLY, TOKEN, WINDOW, LiveServer, chrome, console_token

WAIT = 30.0  # seconds a page may take to show what the server already did (a loaded CI)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with console_token(), LiveServer(tmp_path_factory.mktemp("console")) as live:
        yield live


@pytest.fixture(scope="module")
def browser(server: LiveServer) -> Iterator[Any]:
    driver = chrome()
    try:
        driver.get(f"{server.url}/console/login")
        driver.find_element("id", "token").send_keys(TOKEN)
        driver.find_element("id", "sign-in").click()
        wait(driver, lambda d: d.find_elements("id", "live-calls"))
        yield driver
    finally:
        driver.quit()


def wait(driver: Any, condition: Any, timeout: float = WAIT) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def css(driver: Any, selector: str) -> list[Any]:
    return driver.find_elements("css selector", selector)


def current_state(driver: Any) -> str:
    """The state the page highlights: the diagram's `.current` node and the page's own."""
    nodes = css(driver, "#diagram g.node.current")
    ids = [n.get_attribute("id") for n in nodes]
    body = driver.find_element("tag name", "body").get_attribute("data-state")
    return body if ids == [f"state-{body}"] else f"mismatch {ids} / {body}"


def test_a_request_without_the_token_is_refused(server: LiveServer) -> None:
    for path in ("/console", "/console/flow", "/console/live.sse", "/console/calls/x/events"):
        answer = httpx.get(server.url + path, timeout=10)
        assert answer.status_code == 401, path
        assert "Content-Security-Policy" in answer.headers
    wrong = httpx.get(server.url + "/console", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = httpx.get(server.url + "/console", headers={"Authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200 and "Live calls" in right.text
    basic = httpx.get(server.url + "/console", auth=("anyone", TOKEN))
    assert basic.status_code == 200
    # A browser without the session cookie gets the sign-in form, not the calls.
    driver = chrome()
    try:
        driver.get(server.url + "/console")
        assert driver.find_elements("id", "token") and not driver.find_elements("id",
                                                                                 "live-calls")
    finally:
        driver.quit()


def test_a_live_call_moves_through_the_flow_on_the_page(server: LiveServer,
                                                        browser: Any) -> None:
    browser.get(f"{server.url}/console")
    assert server.run(server.dial("CA-live-1")) == "listening"
    row = wait(browser, lambda d: [r for r in css(d, "#live-calls tr[data-key]")
                                   if "CA-live-1" in r.text and "listening" in r.text])
    assert "***1234" in row[0].text and "+1555" not in row[0].text  # the caller, redacted
    assert "timer.silence in" in row[0].text  # the armed timer counts down
    row[0].find_element("tag name", "a").click()
    wait(browser, lambda d: current_state(d) == "listening")
    assert css(browser, "#diagram g.node.visited")  # the path so far
    assert css(browser, "#diagram g.edge.taken")

    assert server.run(server.ask("CA-live-1", "Do you take my insurance?", LONG_REPLY)) \
        == "speaking"
    wait(browser, lambda d: current_state(d) == "speaking")
    caller_lines = wait(browser, lambda d: css(d, "#lines li.caller"))
    assert "Do you take my insurance?" in caller_lines[-1].text
    wait(browser, lambda d: css(d, "#lines li.agent.heard"))  # its first sentence was heard
    segments = wait(browser, lambda d: css(d, "#bars .turn .seg"))
    assert len(segments) >= 3 and all(s.size["height"] > 0 for s in segments)
    assert sum(s.size["width"] for s in segments) > 50

    assert server.run(server.talk_over("CA-live-1")) == "listening"
    barge = wait(browser, lambda d: css(d, "#lines li.barge"))
    assert "barge-in" in barge[0].text
    cut = wait(browser, lambda d: css(d, "#lines li.agent.cut"))
    assert "cut off" in cut[0].text
    wait(browser, lambda d: current_state(d) == "listening")
    shot = os.environ.get("DIALFLOW_CONSOLE_SCREENSHOT")
    if shot:
        browser.save_screenshot(shot)

    assert server.run(server.hang_up("CA-live-1")) == "hung_up"
    wait(browser, lambda d: "ended" in d.find_element("id", "status").text)
    browser.get(f"{server.url}/console")
    wait(browser, lambda d: not [r for r in css(d, "#live-calls tr[data-key]")
                                 if "CA-live-1" in r.text])


def test_a_past_call_replays_with_the_scrubber(server: LiveServer, browser: Any) -> None:
    server.run(server.dial("CA-past-1"))
    server.run(server.ask("CA-past-1", "Where are you?", "We are at 12 Main Street."))
    server.run(server.hang_up("CA-past-1"))

    def listed(d: Any) -> list[Any]:  # past calls are listed as the page loads: reload
        d.get(f"{server.url}/console")
        return [a for a in css(d, "#past-calls a") if a.text == "CA-past-1"]

    wait(browser, listed)[0].click()
    wait(browser, lambda d: d.find_element("tag name", "body").get_attribute("data-loaded"))
    assert current_state(browser) == "hung_up"
    whole = len(css(browser, "#lines li"))
    assert whole >= 3  # the greeting, the question, the answer
    end = float(browser.find_element("id", "scrubber").get_attribute("max"))

    def scrub(seconds: float) -> None:
        browser.execute_script(
            "const s = document.getElementById('scrubber'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('input'));", f"{seconds:.2f}")

    scrub(0.0)
    early = current_state(browser)
    assert early not in ("hung_up", "") and not early.startswith("mismatch"), early
    assert len(css(browser, "#lines li")) < whole
    assert not css(browser, "#bars .turn")
    scrub(end)
    assert current_state(browser) == "hung_up" and len(css(browser, "#lines li")) == whole
    browser.find_element("id", "play").click()  # replays the timeline from the start
    seen = set()
    wait(browser, lambda d: seen.add(current_state(d)) or ("hung_up" in seen and len(seen) >= 3))
    assert "speaking" in seen or "thinking" in seen, seen


def test_the_readme_screenshot_is_the_browser_window() -> None:
    """README shows docs/console.png, made by the live-call test above: a PNG as wide as
    the test's browser window."""
    data = (Path(__file__).resolve().parents[2] / "docs" / "console.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == WINDOW[0]
