"""Deepgram's interim results drive speculation, against the fake server with the real SDK:
a final segment at a pause is a guess for the call's speculator, an interim with more words
withdraws it, and `UtteranceEnd`/`speech_final` commit — with the very words guessed when
nothing followed, so a real call uses the reply it started early."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from deepgram_kit import Recorder, feed_until, frames, make_stt

from engine.call import Call
from engine.machine import FlowMachine
from engine.scripts.fakes import FakeWorld
from engine.scripts.runner import settle
from flows import load_flow
from tests.fakes.deepgram_server import Cue, FakeDeepgram, SpeechStarted, UtteranceEnd, Words

ROOT = Path(__file__).resolve().parents[2]


class Guesses(list):  # type: ignore[type-arg]
    """Stands in for the call's Speculator."""

    def guess(self, text: str, confidence: float | None = None) -> bool:
        self.append(("guess", text, confidence))
        return True

    def drop(self, why: str = "") -> None:
        self.append(("drop",))


async def _run(script: list[Cue], steps: int, speculation: Any, emit: Any) -> None:
    async with FakeDeepgram(script=script) as fake:
        session = make_stt(fake).open("call-guess", emit)
        session.speculation = speculation
        audio = frames(10 * steps)
        for step in range(steps):
            await feed_until(fake, session, audio[10 * step:10 * step + 10])
            await fake.wait_until(lambda f, n=step: len(f.connections[0].sent) >= n + 1)
        await emit.wait_for("caller.utterance")
        await session.close()


def test_a_final_segment_is_guessed_and_the_utterance_end_commits_the_same_words() -> None:
    script = [Cue(1600, Words("I'd like")),  # interim
              Cue(3200, Words("I'd like to book a cleaning.", 0.8, is_final=True)),
              Cue(4800, UtteranceEnd())]
    guesses, emit = Guesses(), Recorder()
    asyncio.run(_run(script, 3, guesses, emit))
    assert guesses == [("guess", "I'd like to book a cleaning.", 0.8)]
    assert emit.named("caller.utterance") == [{"text": "I'd like to book a cleaning.",
                                               "confidence": 0.8}]
    assert "guess" not in emit.names()  # the machine never sees a guess


def test_more_words_after_the_guess_withdraw_it() -> None:
    script = [Cue(1600, Words("My number is five five five", 0.9, is_final=True)),
              Cue(3200, Words("one two")),  # the caller goes on
              Cue(4800, Words("one two three four", 0.9, is_final=True, speech_final=True))]
    guesses, emit = Guesses(), Recorder()
    asyncio.run(_run(script, 3, guesses, emit))
    assert guesses == [("guess", "My number is five five five", 0.9), ("drop",)]
    assert [u["text"] for u in emit.named("caller.utterance")] == [
        "My number is five five five one two three four"]


def test_a_call_uses_the_reply_started_on_the_guess() -> None:
    """End to end: the SDK's messages reach a real call; its speculator starts the brain on
    the final segment and the UtteranceEnd's utterance takes that reply over."""
    script = [Cue(1600, SpeechStarted(lag_s=0.1)),
              Cue(3200, Words("When do you")),
              Cue(4800, Words("When do you close on Thursday?", 0.9, is_final=True)),
              Cue(6400, UtteranceEnd())]

    async def main() -> tuple[list[str], list[Any], list[str]]:
        loop = asyncio.get_running_loop()
        world = FakeWorld(clock=loop.time)
        world.llm.append({"reply": "We close at seven on Thursdays."})
        call = Call(FlowMachine(load_flow(ROOT / "flows.yaml")), world.ports(), "CA-dg")
        world.post = call.post
        consumer = loop.create_task(call.run())
        call.post("call.started", caller="+15550001111", call_sid="CA-dg")
        call.post("agent.playback_done")
        await settle(call)
        emit = Recorder()

        def both(name: str, **fields: Any) -> None:
            emit(name, **dict(fields))
            call.post(name, **fields)

        both.wait_for = emit.wait_for  # type: ignore[attr-defined]
        await _run(script, 4, call.speculation, both)
        await settle(call)
        log = [what.split(" ")[0] for _, what in call.speculation.log]
        states = [e.after for e in call.trace.entries if e.handled]
        call.post("call.hangup")
        await consumer
        return log, [r.detail for r in world.records if r.kind == "asked"], states

    log, asked, states = asyncio.run(main())
    assert log == ["started", "used"]
    assert [a["text"] for a in asked] == ["When do you close on Thursday?"]  # asked once
    assert "speaking" in states
