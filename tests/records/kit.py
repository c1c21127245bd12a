"""Place real simulated calls through the server (uvicorn, the Media Streams WebSocket, the
simulated Twilio caller) with call records on, using the fast fake providers: the tone TTS,
the energy STT and the scripted brain. Shared by the record-and-replay tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path

from adapters.twilio.caller import SimulatedCaller
from engine.call import Call
from engine.records.privacy import DataDirs
from engine.records.recorder import CallRecords
from engine.redaction import redact_private
from tests.fakes.providers import silence, tone
from tests.server.harness import AUTH_TOKEN, Running, running_server
from tests.waiting import until

ROOT = Path(__file__).resolve().parents[2]


def fast_flow(tmp: Path, *, reprompts: int = 2, extra: str = "") -> Path:
    """The default flow with a 1 s silence timeout (so silent callers are quick to test)."""
    text = (ROOT / "flows.yaml").read_text(encoding="utf-8")
    text = text.replace("timeout: {after: 8s, event: timer.silence}",
                        "timeout: {after: 1s, event: timer.silence}")
    text = text.replace("reprompts: {max: 2}", f"reprompts: {{max: {reprompts}}}")
    if extra:
        text = text.replace("settings:\n", f"settings:\n{extra}", 1)
    path = tmp / f"flow-{reprompts}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def records_for(tmp: Path, env: dict[str, str] | None = None) -> CallRecords:
    return CallRecords(DataDirs.from_env({}, root=tmp / "data"), redact=redact_private,
                       env=env or {})


def next_weekday() -> str:
    day = dt.date.today() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day.isoformat()


def _call(server: Running, sid: str) -> Call:
    for stream in server.services.streams:
        if stream.call_id == sid and stream.call is not None:
            return stream.call
    raise LookupError(sid)


async def _dial(server: Running, sid: str, body: Callable[[SimulatedCaller, Call],
                                                            Awaitable[None]]) -> None:
    async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=sid,
                               caller="+15550001234") as caller:
        await until(lambda: any(s.call_id == sid and s.call for s in server.services.streams))
        call = _call(server, sid)
        await until(lambda: call.state == "listening")
        await body(caller, call)
        await until(lambda: call.ended)


async def booking(server: Running, sid: str = "CA-booking") -> None:
    server.stt.transcripts.extend(["I'd like to book a cleaning, my name is Ana Lopez.",
                                   "No, that's all, thank you."])
    server.world.llm.extend([
        {"tool_call": {"name": "book_appointment",
                       "args": {"name": "Ana Lopez", "phone": "+15550001234",
                                "date": next_weekday(), "time": "10:00",
                                "reason": "cleaning"}}},
        {"reply": "You're booked for a cleaning at ten. Anything else?"},
        {"tool_call": {"name": "end_call"}}])

    async def body(caller: SimulatedCaller, call: Call) -> None:
        await caller.say(tone(0.6) + silence(0.4))
        await until(lambda: call.state == "speaking")
        await until(lambda: call.state == "listening")
        await caller.say(tone(0.5) + silence(0.4))

    await _dial(server, sid, body)


async def silent(server: Running, sid: str = "CA-silent") -> None:
    """Says nothing: reprompted twice, then escalated; no Twilio, so a message is taken."""

    async def body(caller: SimulatedCaller, call: Call) -> None:
        return None

    await _dial(server, sid, body)


async def one_reprompt(server: Running, sid: str = "CA-question") -> None:
    """Silent once (reprompted), then asks a question, hears the answer, presses 0."""
    server.stt.transcripts.append("Where are you located?")
    server.world.llm.append({"reply": "We are at 12 Main Street. Parking is free."})

    async def body(caller: SimulatedCaller, call: Call) -> None:
        await until(lambda: call.counters.get("reprompts") == 1)
        await until(lambda: call.playback.idle)
        await caller.say(tone(0.6) + silence(0.4))
        await until(lambda: call.state == "speaking")
        await until(lambda: call.state == "listening")
        await caller.press("0")

    await _dial(server, sid, body)


async def barge_in(server: Running, sid: str = "CA-barge") -> None:
    """Talks over a long reply, then hangs up."""
    server.stt.transcripts.extend(["Do you take my insurance?", "Thanks, bye."])
    server.world.llm.extend([
        {"reply": "We accept most PPO plans. That includes Delta Dental, Cigna and Aetna. "
                  "We also offer a membership plan for patients without any insurance."},
        {"reply": "Goodbye."}])

    async def body(caller: SimulatedCaller, call: Call) -> None:
        await caller.say(tone(0.6) + silence(0.4))
        await until(lambda: call.state == "speaking")
        await caller.say(tone(0.5), wait=False)
        await until(lambda: call.state == "listening")
        await caller.say(silence(0.4))
        await until(lambda: call.playback.idle and call.state == "listening")
        await caller.stop()

    await _dial(server, sid, body)


SCENARIOS = {"booking": booking, "silent": silent, "question": one_reprompt,
             "barge": barge_in}


async def place(tmp: Path, names: list[str], *, flow: Path | None = None,
                env: dict[str, str] | None = None) -> CallRecords:
    """Place the named calls one after another through one server; return its records."""
    records = records_for(tmp, env)
    async with running_server(tmp, flow=flow or fast_flow(tmp), records=records) as server:
        server.tts.seconds_per_char = 0.003  # shorter prompts: the same calls, sooner
        for name in names:
            await SCENARIOS[name](server)
    return records


PRIVATE = ("My card is 4111 1111 1111 1111, I was born on 03/14/1985, "
           "call me back on 555 123 4567.")


async def private(server: Running, sid: str = "CA-private") -> None:
    """Says a card number, a birth date and a phone number, then hangs up."""
    server.stt.transcripts.append(PRIVATE)
    server.world.llm.append({"reply": "Thanks, I have noted 555 123 4567."})

    async def body(caller: SimulatedCaller, call: Call) -> None:
        await caller.say(tone(0.6) + silence(0.4))
        await until(lambda: call.state == "speaking")
        await until(lambda: call.state == "listening")
        await caller.stop()

    await _dial(server, sid, body)


SCENARIOS["private"] = private
