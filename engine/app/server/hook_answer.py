"""`HookAnswer`: what a Twilio callback decided, apart from how it is written, so the worker
that holds the call can decide and the worker Twilio reached can answer
(engine/app/server/forwarding.py).

A decision is TwiML to return as it is (`twiml`), a `<Connect><Stream>` for a CallSid and
caller that the receiving worker writes for its own request (`stream`: the stream URL comes
from the request Twilio made, the binding from the shared auth token), or an empty status
(`empty`, e.g. 204); between workers only, a JSON text (`data`). It travels between
workers as a small JSON object, checked on the way in (`from_json`) like any input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from adapters.twilio.signature import SignatureChecker
from engine.app.server.webhook_form import stream_answer

XML = "application/xml"
KINDS = ("twiml", "stream", "empty", "data")
MAX_BODY = 65_536  # the biggest is a dial's variables (32 of 500 characters)


@dataclass(frozen=True)
class HookAnswer:
    kind: str
    body: str = ""  # the TwiML of `twiml`
    call_sid: str = ""  # `stream`: the call the new stream is bound to
    caller: str = ""
    status: int = 200

    @classmethod
    def twiml(cls, body: str) -> HookAnswer:
        return cls("twiml", body=body)

    @classmethod
    def stream(cls, call_sid: str, caller: str) -> HookAnswer:
        return cls("stream", call_sid=call_sid, caller=caller)

    @classmethod
    def empty(cls, status: int = 204) -> HookAnswer:
        return cls("empty", status=status)

    @classmethod
    def data(cls, text: str) -> HookAnswer:
        return cls("data", body=text)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> HookAnswer:
        """A decision another worker sent; `ValueError` for anything malformed."""
        if not isinstance(data, dict) or data.get("kind") not in KINDS:
            raise ValueError("not a hook answer")
        values = {name: data.get(name, default) for name, default in
                  (("body", ""), ("call_sid", ""), ("caller", ""))}
        if not all(isinstance(v, str) for v in values.values()):
            raise ValueError("hook answer fields are text")
        status = data.get("status", 200)
        if not isinstance(status, int) or not 200 <= status < 600:
            raise ValueError("hook answer status out of range")
        if len(values["body"]) > MAX_BODY or len(values["call_sid"]) > 64 \
                or len(values["caller"]) > 64:
            raise ValueError("hook answer too large")
        return cls(data["kind"], status=status, **values)

    def render(self, request: Request, signatures: SignatureChecker) -> Response:
        """The HTTP answer to Twilio's `request` (on the worker Twilio reached)."""
        if self.kind == "stream":
            return stream_answer(request, signatures, self.call_sid, self.caller)
        if self.kind == "twiml":
            return Response(self.body, media_type=XML, status_code=self.status)
        if self.kind == "data":
            return Response(self.body, media_type="application/json")
        return Response(status_code=self.status)
