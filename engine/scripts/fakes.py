"""Scripted fakes of every port, answering from an event script and recording what they did.

They stand in for Twilio, the speech adapters, the brain and the tools so a whole call runs
on virtual time with no network. What they were asked is kept in `Record`s so a script can
assert it; a question the script did not answer is recorded as a script problem.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from engine.ports import (
    BrainOutput,
    Ports,
    Sentence,
    ToolCall,
    ToolOutcome,
    Turn,
    WarmDial,
)
from engine.sentences import split_sentences
from flows.durations import parse_duration

WORDS_PER_SECOND = 2.5  # how long `playback: auto` takes to "play" a text
FOREVER = 10 * 365 * 24 * 3600.0


@dataclass
class Record:
    at: float
    kind: str  # said, cleared, asked, reply, tool, transfer, whisper, hung_up, ticket,
    # speaker_failed, problem
    detail: Any = None


@dataclass
class FakeWorld:
    """Shared state of the fakes for one call."""

    clock: Callable[[], float]
    post: Callable[..., None] = lambda *a, **k: None
    playback_auto: bool = False
    llm: deque[dict[str, Any]] = field(default_factory=deque)
    tools: dict[str, deque[dict[str, Any]]] = field(default_factory=dict)
    transfer: str = "ok"
    speaker: str = "ok"  # ok | fail | hang
    records: list[Record] = field(default_factory=list)
    tickets: int = 0

    def record(self, kind: str, detail: Any = None) -> None:
        self.records.append(Record(self.clock(), kind, detail))

    def add_tools(self, answers: dict[str, Any]) -> None:
        for name, value in answers.items():
            items = value if isinstance(value, list) else [value]
            self.tools.setdefault(name, deque()).extend(dict(i) for i in items)

    def ports(self) -> Ports:
        return Ports(speaker=FakeSpeaker(self), brain=FakeBrain(self), tools=FakeTools(self),
                     telephony=FakeTelephony(self))


async def _delay(answer: dict[str, Any]) -> None:
    if "after" in answer:
        await asyncio.sleep(parse_duration(answer["after"]))


class FakeSpeaker:
    def __init__(self, world: FakeWorld):
        self.world = world
        self._playing: list[asyncio.TimerHandle] = []
        self._busy_until = 0.0
        self._holding = False

    async def say(self, speech_id: str, text: str) -> None:
        self.stop_hold()  # as the Twilio speaker: words end the music
        if self.world.speaker == "hang":
            self.world.record("speaker_failed", {"text": text, "mode": "hang"})
            await asyncio.sleep(FOREVER)
        if self.world.speaker == "fail":
            self.world.record("speaker_failed", {"text": text, "mode": "fail"})
            raise ConnectionError("the fake speaker failed (script: `speaker: fail`)")
        self.world.record("said", text)
        if self.world.playback_auto:
            loop = asyncio.get_running_loop()
            start = max(loop.time(), self._busy_until)
            self._busy_until = start + max(0.5, len(text.split()) / WORDS_PER_SECOND)
            self._playing.append(loop.call_at(self._busy_until, self._heard, speech_id))

    def _heard(self, speech_id: str) -> None:
        self.world.post("agent.playback_done", speech=speech_id)

    def hold(self, music: str) -> None:
        self._holding = True
        self.world.record("audio", "hold")

    def stop_hold(self) -> None:
        if self._holding:
            self._holding = False
            self.world.record("audio", "hold_stop")

    def clear(self) -> None:
        self.stop_hold()
        self.world.record("cleared")
        for handle in self._playing:
            handle.cancel()
        self._playing.clear()
        self._busy_until = 0.0


class FakeAudio:
    """The agent's outbound audio as the barge-in gate sees it: it records what it is told
    (`audio` records: pause, clear, resume) so a script can `expect: {audio: [...]}`."""

    def __init__(self, world: FakeWorld):
        self.world = world

    def pause(self) -> None:
        self.world.record("audio", "pause")

    def rewind(self) -> None:
        self.world.record("audio", "clear")

    def resume(self) -> None:
        self.world.record("audio", "resume")


class FakeBrain:
    """Answers in the script's order. A speculative turn (`Turn.tentative`) records what it
    was asked only once committed, and puts its answer back if dropped."""

    tentative_ok = True

    def __init__(self, world: FakeWorld):
        self.world = world

    def _record(self, turn: Turn, kind: str, detail: Any) -> None:
        if turn.tentative is None:
            self.world.record(kind, detail)
        else:
            turn.tentative.on_commit(lambda: self.world.record(kind, detail))

    async def respond(self, turn: Turn) -> AsyncIterator[BrainOutput]:
        """A reply's sentences come first; then `hang`/`error` (after speaking), then a
        tool call."""
        self._record(turn, "asked", {"text": turn.text, "heard": list(turn.heard)})
        if not self.world.llm:
            self._record(turn, "problem", f"the brain was asked to reply to {turn.text!r} "
                         "but the script has no llm answer left: add `llm: {reply: …}`")
            return
        answer = self.world.llm.popleft()
        if turn.tentative is not None:
            turn.tentative.on_drop(lambda: self.world.llm.appendleft(answer))
        await _delay(answer)
        if "reply" in answer:
            self._record(turn, "reply", str(answer["reply"]))
            for sentence in split_sentences(str(answer["reply"])):
                yield Sentence(sentence)
        if answer.get("hang"):
            await asyncio.sleep(FOREVER)
        if "error" in answer:
            raise RuntimeError(str(answer["error"]))
        if "tool_call" in answer:
            spec = dict(answer["tool_call"])
            yield ToolCall(str(spec.get("name", "")), dict(spec.get("args") or {}),
                           str(spec.get("id", "")))

    def tool_result(self, call_id: str, tool: ToolCall, outcome: ToolOutcome) -> None:
        self.world.record("tool_result", {"name": tool.name, "ok": outcome.ok})

    def forget(self, call_id: str) -> None:
        self.world.record("forgotten", call_id)


class FakeTools:
    def __init__(self, world: FakeWorld):
        self.world = world

    async def run(self, name: str, args: dict[str, Any], call_id: str) -> ToolOutcome:
        if name == "escalate_to_human" and not self.world.tools.get(name):
            self.world.tickets += 1
            self.world.record("ticket", dict(args))
            return ToolOutcome(ok=True, result={"ticket": f"T-{self.world.tickets}"})
        self.world.record("tool", {"name": name, "args": dict(args)})
        answers = self.world.tools.get(name)
        if not answers:
            self.world.record("problem", f"tool {name} was called but the script has no "
                              f"answer for it: add `tools: {{{name}: {{result: …}}}}`")
            return ToolOutcome(ok=False, error="no scripted answer")
        answer = answers.popleft() if len(answers) > 1 else answers[0]
        await _delay(answer)
        if answer.get("hang"):
            await asyncio.sleep(FOREVER)
        if "error" in answer:
            return ToolOutcome(ok=False, error=str(answer["error"]))
        return ToolOutcome(ok=True, result=answer.get("result"))


class FakeTelephony:
    def __init__(self, world: FakeWorld):
        self.world = world

    async def transfer(self, number: str, warm: WarmDial | None = None) -> None:
        self.world.record("transfer", number)
        if warm is not None:
            self.world.record("whisper", warm.whisper)
        if self.world.transfer == "hang":
            await asyncio.sleep(FOREVER)
        if self.world.transfer == "fail":
            raise ConnectionError("the fake telephony refused the transfer")

    async def hang_up(self) -> None:
        self.world.record("hung_up")
