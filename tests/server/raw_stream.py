"""Raw Twilio Media Streams messages and abrupt disconnects, for the hardening tests, the fuzz
suite and the soak benchmark: what a hostile or broken peer sends, which the well-behaved
`SimulatedCaller` never would."""

from __future__ import annotations

import json
import time
from typing import Any

from adapters.twilio.binding import BINDING_PARAM, make_binding
from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.signature import SIGNATURE_HEADER, sign

CONNECTED = json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"})


def handshake_headers(token: str, url: str) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(token, url)}


def start_message(call_sid: str, *, stream_sid: str = "MZ1", caller: str = "+15550001234",
                  token: str | None = None, binding: str | None = None,
                  extra: dict[str, str] | None = None) -> str:
    """A `start`; bound to `call_sid` and `caller` with `token` unless `binding` is given."""
    params: dict[str, Any] = {"caller": caller, "callSid": call_sid, **(extra or {})}
    if binding is None and token is not None:
        binding = make_binding(token, call_sid, caller, time.time())
    if binding is not None:
        params[BINDING_PARAM] = binding
    return json.dumps({
        "event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
        "start": {"streamSid": stream_sid, "callSid": call_sid, "accountSid": "AC1",
                  "tracks": ["inbound"], "customParameters": params,
                  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                  "channels": 1}}})


def drop_tcp(caller: SimulatedCaller) -> None:
    """Cut the caller's TCP connection without a WebSocket close: a phone network that
    goes away mid-call."""
    ws = caller._ws  # the simulated caller has no public way to fail like a network
    assert ws is not None, "not connected"
    ws.transport.abort()
