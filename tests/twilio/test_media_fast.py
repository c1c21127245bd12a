"""The media fast path (adapters/twilio/media_fast.py) against the full parser, and the
outbound media text built from a per-stream prefix (adapters/twilio/messages.py).

The fast path may only ever say "accepted, and here is the same `Media`": on every input —
Twilio's own shape, generated variations and mutated text — `media_fast.parse_inbound` must
give what `messages.parse_inbound` gives, the same message or the same `ProtocolError`.
"""

from __future__ import annotations

import base64
import json
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.twilio import media_fast
from adapters.twilio.messages import (
    Media,
    ProtocolError,
    media_message,
    media_prefix,
    media_text,
)
from adapters.twilio.messages import parse_inbound as parse_full
from tests.twilio.test_twilio_messages import FRAME, SID, media_msg


def twilio_media(**top: Any) -> dict[str, Any]:
    """Twilio's media message (the messages tests' own), its top-level fields replaced."""
    return {**media_msg(), **top}


def outcome(parse: Any, text: Any, max_chars: int = 64 * 1024) -> tuple[str, Any]:
    try:
        return "accepted", parse(text, max_chars)
    except ProtocolError as exc:
        return "refused", exc.reason


def same_answer(text: Any, max_chars: int = 64 * 1024) -> tuple[str, Any]:
    full = outcome(parse_full, text, max_chars)
    assert outcome(media_fast.parse_inbound, text, max_chars) == full
    fast = media_fast.parse_media(text, max_chars)
    assert fast is None or full == ("accepted", fast)
    return full


# -- what the fast path takes ------------------------------------------------------------------
def test_twilio_shaped_media_takes_the_fast_path_and_matches_the_full_parser() -> None:
    text = json.dumps(twilio_media())
    fast = media_fast.parse_media(text)
    assert fast == Media(SID, "inbound", 2, 20, FRAME, 3)
    assert same_answer(text) == ("accepted", fast)


def test_compact_and_reordered_json_and_plain_integer_counters_take_the_fast_path() -> None:
    message = twilio_media(sequenceNumber=7)
    message["media"].update(chunk=0, timestamp=10**19)
    text = json.dumps({k: message[k] for k in reversed(message)}, separators=(",", ":"))
    assert media_fast.parse_media(text) == Media(SID, "inbound", 0, 10**19, FRAME, 7)
    same_answer(text)


def test_the_simulated_callers_media_takes_the_fast_path() -> None:
    # adapters/twilio/caller.py writes media then sequenceNumber then streamSid
    text = json.dumps({"event": "media", "media": {"track": "inbound", "chunk": "1",
                       "timestamp": "0", "payload": base64.b64encode(FRAME).decode()},
                       "sequenceNumber": "5", "streamSid": SID})
    assert media_fast.parse_media(text) is not None


def test_other_events_go_to_the_full_parser() -> None:
    assert media_fast.parse_media('{"event":"stop","streamSid":"MZ1"}') is None
    kind, stop = same_answer('{"event":"stop","streamSid":"MZ1"}')
    assert kind == "accepted" and stop.event == "stop"


# -- what it must leave to the full parser, with the full parser's answer ----------------------
@pytest.mark.parametrize("text", [
    '{"event":"media","streamSid":"MZ1","media":{"track":"inbound","chunk":"1",'
    '"timestamp":"0","payload":""},"extra":NaN}',  # json takes NaN, orjson does not
    json.dumps(twilio_media(sequenceNumber=2**64 + 5)),  # past orjson's integers, accepted
    json.dumps(twilio_media(sequenceNumber=10**20)),  # too many digits
    json.dumps(twilio_media(sequenceNumber="1" * 21)),
    json.dumps(twilio_media(sequenceNumber=-1)),
    json.dumps(twilio_media(sequenceNumber=True)),
    json.dumps(twilio_media(sequenceNumber=1.0)),
    json.dumps(twilio_media(sequenceNumber="\u0663")),  # a digit, not an ASCII one
    json.dumps(twilio_media(streamSid="")),
    json.dumps(twilio_media(streamSid=None)),
    json.dumps(twilio_media(streamSid=["MZ1"])),
    json.dumps(twilio_media(media="x")),
    json.dumps(twilio_media(media=None)),
    json.dumps(twilio_media(event="Media")),
    '{"event":"media","streamSid":"\\ud800","media":{"track":"inbound","chunk":"1",'
    '"timestamp":"0","payload":""}}',  # a lone surrogate: json takes it, orjson refuses
    '{"event":"media","streamSid":"A","streamSid":"B","media":{"track":"t","chunk":"1",'
    '"timestamp":"0","payload":""}}',  # duplicate keys: the last one counts, in both
    '{"event":"media","streamSid":"A","media":{"track":"t","chunk":"1","timestamp":"0",'
    '"payload":"AAAA"},"media":{"track":"u","chunk":"x","timestamp":"0","payload":""}}',
    '[' * 5000 + ']' * 5000,  # hostile nesting
    '{"event":"media"} trailing',
    '\ufeff' + json.dumps(twilio_media()),  # a byte-order mark
    json.dumps(twilio_media()).encode(),  # bytes: the full parser's business
    json.dumps(twilio_media()).encode()[:-3] + b'\xff"}}',
])
def test_edge_cases_get_the_full_parsers_answer(text: Any) -> None:
    same_answer(text)


@pytest.mark.parametrize("payload", [
    "AAA", "AAAA=", "AA==AA==", "AA=A", "A===", "AAAAAA==", "AA AA", "AA\nAA",
    "-_-_", "AAAA\u00e9", "=", "", "AB==", "AB=",
])
def test_base64_payloads_get_the_full_parsers_answer(payload: str) -> None:
    message = twilio_media()
    message["media"]["payload"] = payload
    same_answer(json.dumps(message))


def test_the_size_bound_is_the_full_parsers() -> None:
    text = json.dumps(twilio_media())
    assert same_answer(text, max_chars=len(text))[0] == "accepted"
    kind, reason = same_answer(text, max_chars=len(text) - 1)
    assert kind == "refused" and "too large" in reason
    assert media_fast.parse_media(text, max_chars=len(text) - 1) is None


# -- generated and mutated messages -----------------------------------------------------------
good_counters = st.one_of(st.integers(min_value=0, max_value=10**6),
                         st.integers(min_value=0, max_value=10**6).map(str))
bad_counters = st.one_of(
    st.integers(min_value=-3, max_value=10**21),
    st.text(alphabet="0123456789", min_size=0, max_size=22),
    st.sampled_from(["-1", "+1", " 1", "1 ", "1.0", "1e3", "\u0663", "\u00b2", "0x1f"]),
    st.booleans(), st.floats(allow_nan=False), st.none(), st.lists(st.integers(), max_size=2),
)
texts = st.one_of(st.text(max_size=70), st.just(""), st.just(SID), st.integers(),
                  st.none(), st.booleans())


def mostly(draw: Any, good: Any, bad: Any) -> Any:
    """A valid value four times in five, so that whole messages are often valid."""
    return draw(bad if draw(st.integers(0, 4)) == 0 else good)


@st.composite
def payloads(draw: Any) -> Any:
    raw = base64.b64encode(draw(st.binary(max_size=200))).decode()
    kind = draw(st.integers(0, 9))
    if kind == 1 and raw:
        cut = draw(st.integers(0, len(raw) - 1))
        raw = raw[:cut] + raw[cut + 1:]
    elif kind == 2:
        raw += draw(st.sampled_from(["=", "==", "A", " ", "\n", "-", "\u00e9"]))
    elif kind == 3:
        return draw(st.one_of(st.text(alphabet=string.printable, max_size=12), st.integers(),
                              st.none()))
    return raw


@st.composite
def media_dicts(draw: Any) -> dict[str, Any]:
    media: dict[str, Any] = {}
    for key, good, bad in (
            ("track", st.sampled_from(["inbound", "outbound", "x"]), texts),
            ("chunk", good_counters, bad_counters),
            ("timestamp", good_counters, bad_counters),
            ("payload", payloads(), payloads())):
        if draw(st.integers(0, 19)):  # now and then a field is missing
            media[key] = mostly(draw, good, bad)
    message: dict[str, Any] = {"event": mostly(draw, st.just("media"), st.sampled_from(
        ["Media", "mark", "start", "", "media "]))}
    if draw(st.integers(0, 19)):
        message["media"] = mostly(draw, st.just(media), texts)
    if draw(st.integers(0, 19)):
        message["streamSid"] = mostly(draw, st.sampled_from([SID, "M", "\u00e9\"q"]), texts)
    if draw(st.booleans()):
        message["sequenceNumber"] = mostly(draw, good_counters, bad_counters)
    if draw(st.integers(0, 4)) == 0:
        message[draw(st.text(max_size=8))] = draw(st.one_of(texts, bad_counters))
    order = draw(st.permutations(list(message)))
    return {key: message[key] for key in order}


@st.composite
def message_texts(draw: Any) -> str:
    text = json.dumps(draw(media_dicts()), ensure_ascii=draw(st.booleans()),
                      separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])))
    mutation = draw(st.integers(0, 7))
    if mutation == 1:  # one character inserted, replaced or removed
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(min_size=0, max_size=1)) + text[at + 1:]
    elif mutation == 2:  # a duplicate key at the end
        key = draw(st.sampled_from(["event", "media", "streamSid", "sequenceNumber"]))
        text = text[:-1] + f',"{key}":' + json.dumps(draw(st.one_of(texts, bad_counters))) + "}"
    elif mutation == 3:
        text = text[: draw(st.integers(0, len(text)))]
    return text


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(message_texts())
@example(json.dumps(twilio_media()))
def test_generated_messages_get_the_same_answer_from_both_paths(text: str) -> None:
    same_answer(text)


@settings(max_examples=300, deadline=None)
@given(media_dicts(), st.integers(min_value=20, max_value=400))
def test_generated_messages_near_the_size_bound(message: dict[str, Any], bound: int) -> None:
    same_answer(json.dumps(message), bound)


# -- outbound: the per-stream prefix -----------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80), st.binary(max_size=400))
def test_media_text_is_exactly_media_message(stream_sid: str, ulaw: bytes) -> None:
    assert media_text(media_prefix(stream_sid), ulaw) == media_message(stream_sid, ulaw)


def test_media_text_for_a_twilio_frame() -> None:
    text = media_text(media_prefix(SID), FRAME)
    assert json.loads(text) == {"event": "media", "streamSid": SID,
                                "media": {"payload": base64.b64encode(FRAME).decode()}}
