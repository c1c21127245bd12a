"""Every webhook reads its form through one bound: a body over 16 KB is refused with 413
before it is parsed or its signature checked, whether it declares its length or arrives
chunked, and a normal signed webhook is still answered. Through the real server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from adapters.twilio.signature import SIGNATURE_HEADER, sign
from engine.app.server.webhook_form import MAX_FORM_BYTES
from tests.server.harness import AUTH_TOKEN, running_server

FORM = {"CallSid": "CA78", "From": "+15551230078", "To": "+15550100100"}
PATHS = ["/webhook/voice", "/webhook/transfer/status", "/webhook/transfer/whisper",
         "/webhook/transfer/join"]


def big_form() -> dict[str, str]:
    return {**FORM, "Padding": "x" * (MAX_FORM_BYTES + 1)}


def test_an_oversized_webhook_body_is_413_on_every_webhook(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server, httpx.AsyncClient() as http:
            for path in PATHS:
                url = f"{server.http_url}{path}"
                form = big_form()
                answer = await http.post(url, data=form, headers={
                    SIGNATURE_HEADER: sign(AUTH_TOKEN, url, form)})
                assert answer.status_code == 413, (path, answer.status_code)

    asyncio.run(scenario())


def test_a_chunked_body_without_a_length_is_bounded_too(tmp_path: Path) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"CallSid=CA78&Padding="
        for _ in range(40):
            yield b"x" * 1024

    async def scenario() -> None:
        async with running_server(tmp_path) as server, httpx.AsyncClient() as http:
            answer = await http.post(
                f"{server.http_url}/webhook/voice", content=chunks(),
                headers={"content-type": "application/x-www-form-urlencoded",
                         SIGNATURE_HEADER: "forged"})
            assert answer.status_code == 413
            assert "content-length" not in answer.request.headers

    asyncio.run(scenario())


def test_a_normal_signed_webhook_is_still_answered(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server, httpx.AsyncClient() as http:
            url = f"{server.http_url}/webhook/voice"
            answer = await http.post(url, data=FORM, headers={
                SIGNATURE_HEADER: sign(AUTH_TOKEN, url, FORM)})
            assert answer.status_code == 200 and "<Stream" in answer.text

    asyncio.run(scenario())
