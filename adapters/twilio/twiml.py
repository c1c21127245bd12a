"""TwiML documents dialflow returns to Twilio, built with the SDK's `VoiceResponse`.

`connect_stream` answers the voice webhook: connect the call to our Media Stream WebSocket
(bidirectional) and pass the caller and call sid as `<Parameter>`s, since Twilio drops query
strings from stream URLs. `busy` answers politely when the server is at its call limit.
`dial` hands a live call to a human (the cold REST transfer); a warm transfer answers the
human's leg with `whisper_then_join` and puts both legs in one `conference`; `hang_up` ends
a call.
The SDK escapes every value. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from twilio.twiml.voice_response import VoiceResponse

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CALLED_PARAM = "called"  # the stream `<Parameter>` with our number the caller dialled


class TwimlError(ValueError):
    """A value that must not go into TwiML (a bad number or URL)."""


def connect_stream(
    stream_url: str,
    *,
    caller: str,
    call_sid: str,
    parameters: Mapping[str, str] | None = None,
) -> str:
    """`<Response><Connect><Stream url=...><Parameter .../></Stream></Connect></Response>`."""
    parts = urlsplit(stream_url)
    if parts.scheme not in ("wss", "ws") or not parts.netloc:
        raise TwimlError(f"stream url must be wss://host/path, got {stream_url!r}")
    if parts.query:
        raise TwimlError("Twilio drops query strings from stream urls; use parameters")
    response = VoiceResponse()
    stream = response.connect().stream(url=stream_url)
    values = {"caller": caller, "callSid": call_sid, **dict(parameters or {})}
    for name, value in values.items():
        stream.parameter(name=name, value=value)
    return str(response)


BUSY_MESSAGE = ("Sorry, all of our lines are busy right now. Please call again in a few "
                "minutes. Goodbye.")


def busy(message: str = BUSY_MESSAGE) -> str:
    """`<Response><Say>...</Say><Hangup/></Response>`: the caller hears why, then the call
    ends without reaching a media stream."""
    response = VoiceResponse()
    response.say(message)
    response.hangup()
    return str(response)


def dial(number: str, *, timeout: int | None = None, action: str | None = None) -> str:
    """`<Response><Dial timeout=.. action=..>+1555...</Dial></Response>` (a cold transfer).

    `number` must be E.164 (`+` and 7 to 15 digits); `timeout` is how long to ring, in
    seconds (Twilio allows 5 to 600); `action` is where Twilio reports how the dial ended
    (`DialCallStatus`). While it rings the caller hears Twilio's ringback tone."""
    if not E164.match(number or ""):
        raise TwimlError("transfer number must be E.164, like +15551234567")
    if timeout is not None and not 5 <= timeout <= 600:
        raise TwimlError(f"dial timeout must be 5..600 seconds, got {timeout}")
    if action is not None and urlsplit(action).scheme not in ("https", "http"):
        raise TwimlError(f"dial action must be an http(s) url, got {action!r}")
    kwargs: dict[str, object] = {}
    if timeout is not None:
        kwargs["timeout"] = timeout
    if action is not None:
        kwargs["action"] = action
    response = VoiceResponse()
    response.dial(number, **kwargs)
    return str(response)


def whisper_then_join(text: str, join_url: str) -> str:
    """`<Say>text</Say><Redirect>join_url</Redirect>`: the human alone hears the summary,
    then Twilio asks `join_url` what next (the conference)."""
    if urlsplit(join_url).scheme not in ("https", "http"):
        raise TwimlError(f"join url must be an http(s) url, got {join_url!r}")
    response = VoiceResponse()
    response.say(text)
    response.redirect(join_url, method="POST")
    return str(response)


def conference(name: str) -> str:
    """`<Dial><Conference>name</Conference></Dial>` for one of the two legs of a warm
    transfer: it starts when either enters, ends when either leaves, no beep, and silence
    (not Twilio's music) for the moment one waits for the other."""
    response = VoiceResponse()
    response.dial().conference(name, start_conference_on_enter=True,
                               end_conference_on_exit=True, beep=False, wait_url="")
    return str(response)


def hang_up() -> str:
    """`<Response><Hangup/></Response>`."""
    response = VoiceResponse()
    response.hangup()
    return str(response)
