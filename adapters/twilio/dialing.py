"""Placing an outbound call through Twilio's REST API (`Calls.create`), with answering-machine
detection, and reading Twilio's `AnsweredBy` back as the flow's `call.answered_by` values.

`place_call` asks Twilio (`POST /2010-04-01/Accounts/{sid}/Calls.json`, through the SDK of
`TwilioRest`) to ring `to` from `from_`; when answered, Twilio fetches `url` (our signed
outbound webhook, which answers `<Connect><Stream>` exactly as for an inbound call) and runs
asynchronous detection (`MachineDetection`, `AsyncAmd=true`), posting the result to
`amd_url`. Every failure is a `DialError` with one safe line (no secret, no full number).
`normalise_answer` maps Twilio's values (human, machine_start, machine_end_beep,
machine_end_silence, machine_end_other, fax, unknown) to human, machine, fax or unknown.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from twilio.base.exceptions import TwilioException, TwilioRestException

from adapters.twilio.rest import TwilioRest
from adapters.twilio.twiml import E164
from engine.redaction import redact_number, redact_text

log = logging.getLogger("dialflow.twilio.dial")
DETECTION_MODES = ("DetectMessageEnd", "Enable")  # Twilio's MachineDetection values
_MACHINE = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other")


class DialError(RuntimeError):
    """The call could not be placed; the message is one line, safe to print and log."""


def normalise_answer(answered_by: str) -> str:
    """Twilio's `AnsweredBy` as the flow sees it: human, machine, fax or unknown."""
    value = (answered_by or "").strip().lower()
    if value == "human":
        return "human"
    if value in _MACHINE or value == "machine":
        return "machine"
    return "fax" if value == "fax" else "unknown"


def check_number(number: str, what: str = "number") -> str:
    """`number` if it is E.164 (`+`, then 7 to 15 digits), else `DialError`."""
    if not E164.match(number or ""):
        raise DialError(f"{what} {redact_text(number or '')!r:.40} is not E.164: write it "
                        "as + and the country code, like +15551234567")
    return number


async def place_call(rest: TwilioRest, *, to: str, from_: str, url: str, amd_url: str,
                     status_url: str | None = None,
                     detection: str | None = "DetectMessageEnd") -> str:
    """Ask Twilio to place the call; return its CallSid. Raises `DialError`."""
    check_number(to, "the number to call")
    check_number(from_, "the number to call from")
    if detection is not None and detection not in DETECTION_MODES:
        raise DialError(f"machine detection must be one of {', '.join(DETECTION_MODES)}")
    params: dict[str, str] = {"to": to, "from_": from_, "url": url, "method": "POST"}
    if detection is not None:
        params.update(machine_detection=detection, async_amd="true",
                      async_amd_status_callback=amd_url,
                      async_amd_status_callback_method="POST")
    if status_url:
        params.update(status_callback=status_url, status_callback_method="POST")
    try:
        async with asyncio.timeout(rest.timeout):
            call = await rest._sdk().calls.create_async(**params)
    except TimeoutError:
        raise DialError(f"no answer from Twilio within {rest.timeout:g}s") from None
    except TwilioRestException as exc:
        code = f", code {exc.code}" if exc.code else ""
        raise DialError(f"Twilio refused the call ({exc.status}{code}): "
                        f"{redact_text(str(exc.msg))}") from None
    except (aiohttp.ClientError, OSError, ValueError, TwilioException) as exc:
        raise DialError(f"Twilio could not be reached: {type(exc).__name__}: "
                        f"{redact_text(str(exc))}") from None
    log.info("dialing %s: call %s placed", redact_number(to), call.sid)
    return str(call.sid)
