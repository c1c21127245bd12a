"""Transfer and hang-up through the SDK against the local fake REST server
(adapters/twilio/rest.py, tests/fakes/twilio_rest.py)."""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Iterator

import pytest

from adapters.twilio.rest import (
    TelephonyError,
    TwilioCalls,
    TwilioConfigError,
    TwilioCredentials,
    TwilioRest,
)
from engine.redaction import redact_number, redact_text
from tests.fakes.twilio_rest import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioRest

CALL = "CA" + "a" * 32
NUMBER = "+15551234567"


@pytest.fixture
def fake() -> Iterator[FakeTwilioRest]:
    with FakeTwilioRest(calls=(CALL,)) as server:
        yield server


def run_with_calls(
    fake: FakeTwilioRest,
    body: Callable[[TwilioCalls], Awaitable[None]],
    *,
    token: str = AUTH_TOKEN,
    timeout: float = 10.0,
) -> None:
    async def main() -> None:
        credentials = TwilioCredentials(ACCOUNT_SID, token)
        async with TwilioRest(credentials, api_base_url=fake.base_url, timeout=timeout) as rest:
            await body(TwilioCalls(rest, CALL, call_id="call-7", dial_timeout=25))

    asyncio.run(main())


def test_transfer_posts_dial_twiml_to_the_call(
    fake: FakeTwilioRest, caplog: pytest.LogCaptureFixture
) -> None:
    async def body(calls: TwilioCalls) -> None:
        await calls.transfer(NUMBER)

    with caplog.at_level(logging.DEBUG):
        run_with_calls(fake, body)
    (request,) = fake.requests
    assert request.method == "POST" and request.authorized
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{CALL}.json"
    assert set(request.form) == {"Twiml"}
    dial = ET.fromstring(request.form["Twiml"]).find("Dial")
    assert dial is not None and dial.text == NUMBER and dial.get("timeout") == "25"
    assert "call-7" in caplog.text and "***4567" in caplog.text
    assert NUMBER not in caplog.text and AUTH_TOKEN not in caplog.text


def test_hang_up_completes_the_call(fake: FakeTwilioRest) -> None:
    async def body(calls: TwilioCalls) -> None:
        await calls.hang_up()

    run_with_calls(fake, body)
    (request,) = fake.requests
    assert request.form == {"Status": "completed"}
    assert fake.calls[CALL] == "completed"


@pytest.mark.parametrize(("status", "code"), [(404, 20404), (500, 20500), (400, 21220)])
def test_twilio_errors_raise_telephony_error(fake: FakeTwilioRest, status: int, code: int) -> None:
    fake.fail_with(status, code, f"Simulated failure calling {NUMBER}")

    async def body(calls: TwilioCalls) -> None:
        with pytest.raises(TelephonyError) as caught:
            await calls.transfer(NUMBER)
        assert (caught.value.status, caught.value.code) == (status, code)
        message = str(caught.value)
        assert message.startswith("transfer failed") and str(status) in message
        assert NUMBER not in message and "***4567" in message

    run_with_calls(fake, body)
    assert len(fake.requests) == 1


def test_transferring_an_unknown_call_is_a_404(fake: FakeTwilioRest) -> None:
    async def body(calls: TwilioCalls) -> None:
        calls.call_sid = "CA" + "b" * 32
        with pytest.raises(TelephonyError, match="404"):
            await calls.transfer(NUMBER)

    run_with_calls(fake, body)


def test_wrong_credentials_are_refused_by_the_fake(fake: FakeTwilioRest) -> None:
    async def body(calls: TwilioCalls) -> None:
        with pytest.raises(TelephonyError, match="401") as caught:
            await calls.hang_up()
        assert "wrong-token" not in str(caught.value)

    run_with_calls(fake, body, token="wrong-token")
    assert fake.requests[0].authorized is False


def test_slow_twilio_times_out(fake: FakeTwilioRest) -> None:
    fake.hold_requests()  # the fake never answers until it is closed

    async def body(calls: TwilioCalls) -> None:
        with pytest.raises(TelephonyError, match=r"no answer from Twilio within 0\.2s"):
            await calls.transfer(NUMBER)

    run_with_calls(fake, body, timeout=0.2)
    assert fake.held.is_set()


def test_unreachable_twilio_raises_telephony_error() -> None:
    with FakeTwilioRest() as gone:
        url = gone.base_url  # closed below: nothing listens there any more

    async def main() -> None:
        rest = TwilioRest(TwilioCredentials(ACCOUNT_SID, AUTH_TOKEN), api_base_url=url)
        try:
            with pytest.raises(TelephonyError, match="hang-up failed"):
                await TwilioCalls(rest, CALL).hang_up()
        finally:
            await rest.aclose()

    asyncio.run(main())


def test_bad_number_fails_before_any_request(fake: FakeTwilioRest) -> None:
    async def body(calls: TwilioCalls) -> None:
        with pytest.raises(TelephonyError, match=r"E\.164"):
            await calls.transfer("5551234567")

    run_with_calls(fake, body)
    assert fake.requests == []


def test_credentials_come_from_the_environment() -> None:
    creds = TwilioCredentials.from_env(
        {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    )
    assert creds.account_sid == ACCOUNT_SID and AUTH_TOKEN not in repr(creds)
    with pytest.raises(TwilioConfigError, match="TWILIO_ACCOUNT_SID"):
        TwilioCredentials.from_env({"TWILIO_AUTH_TOKEN": AUTH_TOKEN})
    with pytest.raises(TwilioConfigError, match="TWILIO_AUTH_TOKEN"):
        TwilioCredentials.from_env({"TWILIO_ACCOUNT_SID": ACCOUNT_SID})
    with pytest.raises(TwilioConfigError, match="AC"):
        TwilioCredentials.from_env({"TWILIO_ACCOUNT_SID": "nope", "TWILIO_AUTH_TOKEN": "t"})


def test_api_url_from_the_environment_points_at_the_fake(
    fake: FakeTwilioRest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWILIO_EDGE", "sydney")  # must not rewrite the fake's host
    env = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "DIALFLOW_TWILIO_API_URL": fake.base_url,
    }

    async def main() -> None:
        async with TwilioRest.from_env(env) as rest:
            await TwilioCalls(rest, CALL).hang_up()

    asyncio.run(main())
    assert [r.form for r in fake.requests] == [{"Status": "completed"}]


def test_bad_settings_are_refused() -> None:
    creds = TwilioCredentials(ACCOUNT_SID, AUTH_TOKEN)
    with pytest.raises(TwilioConfigError, match="base url"):
        TwilioRest(creds, api_base_url="127.0.0.1:9")
    with pytest.raises(ValueError, match="timeout"):
        TwilioRest(creds, timeout=0)
    with pytest.raises(ValueError, match="call sid"):
        TwilioCalls(TwilioRest(creds), "not-a-sid")


def test_redaction_helpers() -> None:
    assert redact_number("+15551234567") == "***4567"
    assert redact_number("12") == "***"
    text = f"calling {NUMBER} for CA0123456789abcdef on 2024-01-01"
    assert redact_text(text) == "calling ***4567 for CA0123456789abcdef on 2024-01-01"


@pytest.mark.parametrize(("status", "code"), [(404, 20404), (400, 21220)])
def test_hanging_up_a_call_that_is_already_over_is_not_an_error(
        fake: FakeTwilioRest, status: int, code: int, caplog: pytest.LogCaptureFixture) -> None:
    fake.fail_with(status, code, "Call is not in-progress")
    caplog.set_level(logging.INFO, logger="dialflow")

    async def body(calls: TwilioCalls) -> None:
        await calls.hang_up()

    run_with_calls(fake, body)
    assert len(fake.requests) == 1
    assert "already over" in caplog.text
