"""Binding a media stream to the call the signed voice webhook answered.

Twilio signs the WebSocket handshake over the stream URL only, so that signature is the same
for every call and says nothing about which call a stream belongs to. The webhook, whose
signature covers the CallSid and the caller's number, therefore answers with one more
`<Parameter>`: an HMAC of the CallSid, the caller and the time it was issued, keyed from the
Twilio auth token (a key derived for this purpose only, never the token itself). Twilio
hands the parameters back verbatim in the stream's `start`, where the server checks the
binding before it trusts the caller number (which the tools authorise with). Only whoever
holds the auth token can mint one; it expires after `BINDING_TTL` seconds.
Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac

BINDING_PARAM = "dialflowBinding"
BINDING_TTL = 300.0  # seconds from the webhook's answer to the stream's `start`
_PURPOSE = b"dialflow media stream binding v1"


class BindingRejected(ValueError):
    """The stream's `start` is not bound to a call the webhook answered; `reason` is safe
    to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _key(auth_token: str) -> bytes:
    return hmac.new(auth_token.encode(), _PURPOSE, hashlib.sha256).digest()


def _mac(auth_token: str, call_sid: str, caller: str, issued: int) -> str:
    message = "\n".join((call_sid, caller, str(issued))).encode()
    return hmac.new(_key(auth_token), message, hashlib.sha256).hexdigest()


def make_binding(auth_token: str, call_sid: str, caller: str, now: float) -> str:
    """The `<Parameter>` value binding `call_sid` and `caller`, issued at `now` (epoch s)."""
    issued = int(now)
    return f"{issued}.{_mac(auth_token, call_sid, caller, issued)}"


def check_binding(auth_token: str, call_sid: str, caller: str, value: str, now: float,
                  ttl: float = BINDING_TTL) -> None:
    """Raise `BindingRejected` unless `value` binds `call_sid` and `caller` and is fresh."""
    if not value:
        raise BindingRejected(f"no {BINDING_PARAM} parameter (the stream was not opened "
                              "through the signed webhook)")
    issued_text, _, mac = value.partition(".")
    if not issued_text.isascii() or not issued_text.isdigit() or len(issued_text) > 12:
        raise BindingRejected(f"malformed {BINDING_PARAM}")
    issued = int(issued_text)
    expected = _mac(auth_token, call_sid, caller, issued)
    if not hmac.compare_digest(expected.encode(), mac.encode("utf-8", "replace")):
        raise BindingRejected(f"{BINDING_PARAM} does not match this CallSid and caller")
    if not -60 <= now - issued <= ttl:
        raise BindingRejected(f"{BINDING_PARAM} expired ({now - issued:.0f} s old)")
