"""The console in a real browser (headless Chromium through Selenium) while simulated calls
run against a real server on 127.0.0.1: a new call appears in the live list, its current
state is highlighted on the flow diagram and moves on, transcript lines appear, a barge-in
is marked and the agent line it cut off says so, the turn's latency bars render, a past call
replays with the scrubber, and a request without the token is refused. The call page's
screenshot is what README shows (`DIALFLOW_CONSOLE_SCREENSHOT=docs/console.png`)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from engine.records.log import read_log
from engine.records.summary import find_log
from tests.console.kit import (
    HOSTILE,
    LONG_REPLY,
    TOKEN,
    WINDOW,
    LiveServer,
    chrome,
    console_token,
    write_hostile_log,
)

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
    """The state the page highlights: the diagram's `.current` node and the page's own
    (read in one script, so a replay in progress cannot move between the two reads)."""
    ids, body = driver.execute_script(
        "return [[...document.querySelectorAll('#diagram g.node.current')].map(n => n.id),"
        " document.body.dataset.state || ''];")
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


def texts(driver: Any, selector: str) -> list[str]:
    """The text of every element matching `selector`, read in one script (the page redraws
    live, so element handles go stale between reads)."""
    return list(driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText);",
        selector))


def test_a_live_call_moves_through_the_flow_on_the_page(server: LiveServer,
                                                        browser: Any) -> None:
    browser.get(f"{server.url}/console")
    assert server.run(server.dial("CA-live-1")) == "listening"
    row = wait(browser, lambda d: [r for r in texts(d, "#live-calls tr[data-key]")
                                   if "CA-live-1" in r and "listening" in r])[0]
    assert "***1234" in row and "+1555" not in row  # the caller, redacted
    assert "timer.silence in" in row  # the armed timer counts down
    browser.execute_script("document.querySelector('#live-calls tr[data-key] a').click()")
    wait(browser, lambda d: current_state(d) == "listening")
    assert css(browser, "#diagram g.node.visited")  # the path so far
    assert css(browser, "#diagram g.edge.taken")

    assert server.run(server.ask("CA-live-1", "Do you take my insurance?", LONG_REPLY)) \
        == "speaking"
    wait(browser, lambda d: current_state(d) == "speaking")
    caller_lines = wait(browser, lambda d: texts(d, "#lines li.caller"))
    assert "Do you take my insurance?" in caller_lines[-1]
    wait(browser, lambda d: texts(d, "#lines li.agent.heard"))  # its first sentence was heard
    sizes = wait(browser, lambda d: d.execute_script(
        "return [...document.querySelectorAll('#bars .turn .seg')]"
        ".map(s => [s.getBoundingClientRect().width, s.getBoundingClientRect().height]);"))
    assert len(sizes) >= 3 and all(height > 0 for _, height in sizes)
    assert sum(width for width, _ in sizes) > 50

    assert server.run(server.talk_over("CA-live-1")) == "listening"
    barge = wait(browser, lambda d: texts(d, "#lines li.barge"))
    assert "barge-in" in barge[0]
    cut = wait(browser, lambda d: texts(d, "#lines li.agent.cut"))
    assert "cut off" in cut[0]
    wait(browser, lambda d: current_state(d) == "listening")
    shot = os.environ.get("DIALFLOW_CONSOLE_SCREENSHOT")
    if shot:
        browser.save_screenshot(shot)

    assert server.run(server.hang_up("CA-live-1")) == "hung_up"
    wait(browser, lambda d: "ended" in d.find_element("id", "status").text)
    browser.get(f"{server.url}/console")
    wait(browser, lambda d: not [r for r in texts(d, "#live-calls tr[data-key]")
                                 if "CA-live-1" in r])


def test_a_past_call_replays_with_the_scrubber(server: LiveServer, browser: Any) -> None:
    server.run(server.dial("CA-past-1"))
    server.run(server.ask("CA-past-1", "Where are you?", "We are at 12 Main Street."))
    server.run(server.heard("CA-past-1"))
    server.run(server.hang_up("CA-past-1"))

    def listed(d: Any) -> list[Any]:  # past calls are listed as the page loads: reload
        d.get(f"{server.url}/console")
        return [a for a in css(d, "#past-calls a") if a.text == "CA-past-1"]

    wait(browser, listed)[0].click()
    wait(browser, lambda d: d.find_element("tag name", "body").get_attribute("data-loaded"))
    assert current_state(browser) == "hung_up"
    whole = len(texts(browser, "#lines li"))
    assert whole >= 3  # the greeting, the question, the answer
    end = float(browser.find_element("id", "scrubber").get_attribute("max"))

    def scrub(seconds: float) -> None:
        browser.execute_script(
            "const s = document.getElementById('scrubber'); s.value = arguments[0];"
            "s.dispatchEvent(new Event('input'));", f"{seconds:.2f}")

    # Each state the recorded call stayed in for a while, scrubbed to its middle.
    log = read_log(find_log("CA-past-1", server.calls_dir))
    moves = [(e.at, e.after) for e in log.entries if e.handled and e.after != e.before]
    stays = [(at, state, nxt) for (at, state), (nxt, _) in itertools.pairwise(moves)
             if nxt - at > 0.1]
    assert {"listening", "speaking"} <= {state for _, state, _ in stays}, moves
    for at, state, nxt in stays:
        scrub((at + nxt) / 2)
        assert current_state(browser) == state, (at, state)
    scrub(stays[0][0] + 0.05)  # the greeting: nothing said by the caller yet, no turn
    assert len(texts(browser, "#lines li")) < whole and not texts(browser, "#lines li.caller")
    assert not css(browser, "#bars .turn")
    scrub(end)
    assert current_state(browser) == "hung_up" and len(texts(browser, "#lines li")) == whole
    assert css(browser, "#bars .turn")

    browser.find_element("id", "play").click()  # replays the timeline from the start
    positions: list[float] = []
    wait(browser, lambda d: positions.append(float(d.execute_script(
        "return document.getElementById('scrubber').value"))) or positions[-1] >= end)
    assert any(0 < p < end for p in positions), positions  # it moved through the call
    assert positions == sorted(positions)
    assert current_state(browser) == "hung_up"


def test_markup_in_a_call_is_shown_as_text_and_never_runs(server: LiveServer,
                                                          browser: Any) -> None:
    key = write_hostile_log(server.calls_dir)
    browser.get(f"{server.url}/console/calls/{key}")
    wait(browser, lambda d: d.find_element("tag name", "body").get_attribute("data-loaded"))
    lines = texts(browser, "#lines li")
    assert any(HOSTILE in line for line in lines), lines
    assert HOSTILE in browser.find_element("id", "call-id").text
    assert browser.execute_script("return window.__xss === undefined")
    assert not css(browser, "#lines img, #trace img, #call-head img")


def test_the_readme_screenshot_is_the_browser_window() -> None:
    """README shows docs/console.png, made by the live-call test above: a PNG as wide as
    the test's browser window."""
    data = (Path(__file__).resolve().parents[2] / "docs" / "console.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(data[16:20], "big") == WINDOW[0]
