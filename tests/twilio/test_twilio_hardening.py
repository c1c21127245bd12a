"""Bounds and trust in the Twilio adapter: numbers of thousands of digits and over-long ids
are protocol errors (never another exception), ids are escaped for logs, stream bindings
bind exactly one CallSid and caller for a while, forwarded headers need a trusted peer, and
serving beyond loopback needs a public URL or trusted proxies."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from adapters.twilio.binding import BindingRejected, check_binding, make_binding
from adapters.twilio.messages import ProtocolError, parse_inbound
from adapters.twilio.twiml import busy
from adapters.twilio.urls import PublicUrlError, TrustedProxies, check_exposure, external_url
from engine.redaction import escape_id

TOKEN = "test-auth-token-0123456789abcdef"


def start(call_sid: str = "CA1", **start_fields: object) -> str:
    body = {"streamSid": "MZ1", "callSid": call_sid, "accountSid": "AC1", "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            **start_fields}
    return json.dumps({"event": "start", "start": body})


@pytest.mark.parametrize("text", [
    '{"event": "media", "sequenceNumber": ' + "1" * 4301 + "}",
    json.dumps({"event": "media", "streamSid": "MZ1", "sequenceNumber": "2" * 4301,
                "media": {"track": "inbound", "chunk": "1", "timestamp": "0", "payload": ""}}),
    json.dumps({"event": "media", "streamSid": "MZ1", "media": {
        "track": "inbound", "chunk": 10**30, "timestamp": "0", "payload": ""}}),
    start("CA" + "x" * 300),
    start(streamSid="MZ" + "y" * 100),
])
def test_huge_numbers_and_long_ids_are_protocol_errors(text: str) -> None:
    with pytest.raises(ProtocolError):
        parse_inbound(text)


def test_the_message_size_limit_is_a_parameter() -> None:
    text = json.dumps({"event": "connected", "protocol": "Call", "version": "1" * 2000})
    parse_inbound(text)
    with pytest.raises(ProtocolError, match="too large"):
        parse_inbound(text, max_chars=1024)


def test_ids_are_escaped_for_logs_and_stay_distinct() -> None:
    assert escape_id("CA1\nERROR forged") == "CA1\\nERROR forged"
    assert escape_id("a\\nb") != escape_id("a\nb")
    assert escape_id("\x1b[31mred") == "\\x1b[31mred"
    assert escape_id("CA" + "9" * 200, limit=10) == "CA99999999…"


def test_a_binding_binds_one_call_sid_and_caller_for_a_while() -> None:
    value = make_binding(TOKEN, "CA1", "+15551234567", now=1000.0)
    check_binding(TOKEN, "CA1", "+15551234567", value, now=1010.0)
    for call_sid, caller, token, now in [("CA2", "+15551234567", TOKEN, 1010.0),
                                         ("CA1", "+15550000000", TOKEN, 1010.0),
                                         ("CA1", "+15551234567", "other-token", 1010.0),
                                         ("CA1", "+15551234567", TOKEN, 1000.0 + 3600)]:
        with pytest.raises(BindingRejected):
            check_binding(token, call_sid, caller, value, now=now)
    for bad in ["", "garbage", "1000.", "x.y", "9" * 40 + ".00"]:
        with pytest.raises(BindingRejected):
            check_binding(TOKEN, "CA1", "+15551234567", bad, now=1010.0)
    assert TOKEN not in value


def test_forwarded_headers_are_ignored_unless_trusted() -> None:
    headers = {"Host": "10.0.0.5:8000", "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "other.example", "Forwarded": "host=other.example"}
    assert external_url(scheme="http", path="/v", headers=headers) == "http://10.0.0.5:8000/v"
    assert external_url(scheme="http", path="/v", headers=headers,
                        trust_forwarded=True) == "https://other.example/v"


def test_trusted_proxies_from_the_environment() -> None:
    default = TrustedProxies.from_env({})
    assert default.trusts("127.0.0.1") and default.trusts("::1") and not default.configured
    assert not default.trusts("10.1.2.3") and not default.trusts(None)
    chosen = TrustedProxies.from_env({"DIALFLOW_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7"})
    assert chosen.trusts("10.1.2.3") and chosen.trusts("192.0.2.7")
    assert not chosen.trusts("127.0.0.1") and not chosen.trusts("not an ip")
    assert TrustedProxies.from_env({"DIALFLOW_TRUSTED_PROXIES": "*"}).trusts("203.0.113.9")
    with pytest.raises(PublicUrlError, match="DIALFLOW_TRUSTED_PROXIES"):
        TrustedProxies.from_env({"DIALFLOW_TRUSTED_PROXIES": "10.0.0.0/99"})


def test_serving_beyond_loopback_needs_a_public_url_or_trusted_proxies() -> None:
    for host in ("127.0.0.1", "::1", "localhost"):
        check_exposure(host, {})
    with pytest.raises(PublicUrlError, match="DIALFLOW_PUBLIC_URL"):
        check_exposure("0.0.0.0", {})
    check_exposure("0.0.0.0", {"DIALFLOW_PUBLIC_URL": "https://calls.example.com"})
    check_exposure("0.0.0.0", {"DIALFLOW_TRUSTED_PROXIES": "10.0.0.1"})


def test_busy_twiml_says_why_and_hangs_up() -> None:
    root = ET.fromstring(busy())
    assert [child.tag for child in root] == ["Say", "Hangup"]
    assert "busy" in (root.find("Say").text or "")  # type: ignore[union-attr]
