"""The console's door, over real HTTP against a real server: off without its token; the
token as bearer, as a basic-auth password, or the login form's session cookie (signed,
HttpOnly, SameSite=Strict, never the token itself); forged, expired or oversized
credentials refused; a strict CSP on every page; hostile call ids and text escaped; no key
from the environment on any page; a cap on event streams; and sign-in attempts throttled."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from engine.app.server.console.access import ConsoleAccess
from engine.app.server.console.routes import LOGIN_FAILURES, MAX_VIEWERS
from tests.console.kit import TOKEN, LiveServer, console_token, write_hostile_log
from tests.server.harness import running_server

SECRET = "sk-ant-console-test-secret-0123456789"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ANTHROPIC_API_KEY", SECRET)  # in the server's environment, never shown
        with console_token(), LiveServer(tmp_path_factory.mktemp("console-http")) as live:
            yield live


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_console_is_off_without_its_token(tmp_path: Path) -> None:
    async def probe() -> httpx.Response:
        async with running_server(tmp_path) as server, httpx.AsyncClient() as client:
            return await client.get(server.http_url + "/console", headers=bearer())

    answer = asyncio.run(probe())
    assert answer.status_code == 404 and "DIALFLOW_CONSOLE_TOKEN" in answer.text


def test_bearer_basic_and_the_login_cookie_open_it_and_nothing_else_does(
        server: LiveServer) -> None:
    url = server.url + "/console"
    assert httpx.get(url, headers=bearer()).status_code == 200
    assert httpx.get(url, headers=bearer(TOKEN + "x")).status_code == 401
    assert httpx.get(url, headers=bearer(TOKEN[:-1])).status_code == 401
    assert httpx.get(url, auth=("ops", TOKEN)).status_code == 200
    assert httpx.get(url, auth=("ops", "wrong")).status_code == 401
    garbage = base64.b64encode(b"\xff\xfe").decode()
    assert httpx.get(url, headers={"Authorization": f"Basic {garbage}"}).status_code == 401

    login = httpx.post(server.url + "/console/login", data={"token": TOKEN})
    assert login.status_code == 303
    cookie = login.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    value = re.match(r"dialflow_console=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
    assert TOKEN not in value
    assert httpx.get(url, cookies={"dialflow_console": value}).status_code == 200
    expiry, nonce, mac = value.split(".")
    extended = f"{int(expiry) + 10**6}.{nonce}.{mac}"
    assert httpx.get(url, cookies={"dialflow_console": extended}).status_code == 401
    assert httpx.get(url, cookies={"dialflow_console": "1.2.3"}).status_code == 401
    other = ConsoleAccess("another-token-entirely-0123456789").new_session()
    assert httpx.get(url, cookies={"dialflow_console": other}).status_code == 401
    assert not ConsoleAccess(TOKEN).session_valid(value, now=int(expiry) + 1)  # expired

    wrong = httpx.post(server.url + "/console/login", data={"token": "nope"})
    assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
    big = httpx.post(server.url + "/console/login", content=b"token=" + b"a" * 10_000,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413


def test_every_page_has_a_strict_csp_and_escapes_what_calls_said(server: LiveServer) -> None:
    key = write_hostile_log(server.calls_dir)
    pages = ["/console", f"/console/calls/{key}", "/console/flow", "/console/login"]
    for path in pages:
        answer = httpx.get(server.url + path, headers=bearer())
        assert answer.status_code == 200, path
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert "<script>window.__xss" not in answer.text, path
        assert "<img src=x" not in answer.text, path
        assert SECRET not in answer.text, path
    page = httpx.get(server.url + f"/console/calls/{key}", headers=bearer()).text
    assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page  # shown, as text
    events = httpx.get(server.url + f"/console/calls/{key}/events", headers=bearer()).text
    assert "event: done" in events and SECRET not in events
    for path in ["/console/calls/..%2f..%2fetc%2fpasswd", "/console/calls/nope",
                 "/console/calls/.hidden/events", "/console/static/../routes.py",
                 "/console/static/other.js"]:
        assert httpx.get(server.url + path, headers=bearer()).status_code == 404, path
    script = httpx.get(server.url + "/console/static/console.js")
    assert script.status_code == 200 and "innerHTML" not in script.text


def test_event_streams_are_capped(server: LiveServer) -> None:
    async def crowd() -> tuple[list[int], int]:
        async with httpx.AsyncClient(base_url=server.url, headers=bearer(),
                                     timeout=30) as client:
            streams = [client.stream("GET", "/console/live.sse") for _ in range(MAX_VIEWERS)]
            opened = [await s.__aenter__() for s in streams]
            try:
                extra = await client.get("/console/live.sse")
                return [r.status_code for r in opened], extra.status_code
            finally:
                for s in streams:
                    await s.__aexit__(None, None, None)

    statuses, extra = asyncio.run(crowd())
    assert statuses == [200] * MAX_VIEWERS and extra == 503


def test_event_streams_end_when_the_server_goes_down(tmp_path: Path) -> None:
    """A viewer's open stream must not hold `serve`'s shutdown open: once the server
    drains with no call left, every stream ends."""
    with console_token(), LiveServer(tmp_path) as live:
        async def watch() -> list[str]:
            async with httpx.AsyncClient(base_url=live.url, headers=bearer(),
                                         timeout=30) as client, \
                    client.stream("GET", "/console/live.sse") as answer:
                assert answer.status_code == 200
                lines = []
                async for line in answer.aiter_lines():
                    lines.append(line)
                    if line.startswith("data:"):
                        assert live.server is not None
                        live.server.services.accepting = False  # SIGTERM, no calls left
                return lines

        async def bounded() -> list[str]:
            async with asyncio.timeout(20):
                return await watch()

        lines = asyncio.run(bounded())
    assert any(line.startswith("data:") for line in lines)


def test_repeated_wrong_tokens_are_throttled(server: LiveServer) -> None:
    """(Last in this module: it leaves this server's sign-in throttled for a minute.)"""
    codes = [httpx.post(server.url + "/console/login", data={"token": f"guess{n}"}).status_code
             for n in range(LOGIN_FAILURES[0] + 1)]
    first = codes.index(429)  # (one wrong token was tried earlier in this module)
    assert LOGIN_FAILURES[0] - 1 <= first <= LOGIN_FAILURES[0], codes
    assert set(codes[:first]) == {401} and set(codes[first:]) == {429}
    assert httpx.post(server.url + "/console/login", data={"token": TOKEN}).status_code == 429
    assert httpx.get(server.url + "/console", headers=bearer()).status_code == 200
