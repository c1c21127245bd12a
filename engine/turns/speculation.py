"""`Speculator`: one call's speculative reply — started on the transcript at a pause, used
at once if the turn commits with the same words, dropped without a trace otherwise.

The STT reports a guess (`guess(text, confidence)`: the words so far, the caller has paused
but the turn has not ended) and its withdrawal (`drop()`: the caller went on). A guess
starts the brain on a `Turn` marked `Tentative` when the state machine, as things stand,
would answer that utterance with `respond` (the flow's `caller.utterance` transitions and
their guards, read, never run), nothing else of the brain is in flight, no agent speech is
playing, the brain has `tentative_ok` and the state's `turn.speculate` is on. The reply's
items are buffered (up to `MAX_BUFFERED` sentences, and never past a tool call: a tool call
is data until the machine runs it), and the first sentences may be synthesised ahead
(`speaker.prepare`), but nothing is said, no event is posted, nothing enters the trace, the
history, the transcript or the event log.

The machine stays the only owner of what happens: when the turn commits, the machine
handles `caller.utterance` as ever, and only if that leads to `Respond` with the same words
and the same heard sentences does `take()` hand it the speculated stream (the tentative turn
is committed: the brain's records land now). Any other outcome drops it: the brain undoes
its state (`Tentative.on_drop`), prepared audio is forgotten. The log (`log`) says what
happened, for tests and the bench. Touches the call's ports (brain, speaker) and its loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from engine.ports import BrainOutput, Ports, Sentence, Tentative, ToolCall, Turn
from engine.turns.current import current_policy

log = logging.getLogger("dialflow.turns.speculation")
MAX_BUFFERED = 8  # sentences pulled ahead before the commit
PREPARED = 2  # sentences synthesised ahead
UTTERANCE = "caller.utterance"


@dataclass
class _End:
    error: BaseException | None = None


@dataclass(eq=False)
class Speculation:
    """One guess in flight: its turn, what the brain gave so far, and the pulling task."""

    turn: Turn
    started: float
    items: asyncio.Queue[BrainOutput | _End] = field(default_factory=asyncio.Queue)
    committed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    pulled: int = 0

    @property
    def tentative(self) -> Tentative:
        assert self.turn.tentative is not None
        return self.turn.tentative

    async def outputs(self) -> AsyncIterator[BrainOutput]:
        """The reply, from its first item (the committed caller's view of `respond`)."""
        try:
            while True:
                item = await self.items.get()
                if isinstance(item, _End):
                    if item.error is not None:
                        raise item.error
                    return
                yield item
        finally:
            self.cancel()

    def cancel(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()


def would_respond(call: Any, data: dict[str, Any]) -> bool:
    """Would `caller.utterance` with `data` lead the call, in its state now, to `respond`?
    The first transition whose guards hold decides, as the machine would; nothing runs."""
    flow, state = call.flow, call.state
    spec = flow.states.get(state)
    if spec is None or spec.final:
        return False
    for transition in flow.transitions_from_for(state, UTTERANCE):
        try:
            holds = call.guards_hold(transition, data)
        except Exception:  # a guard that cannot judge ahead: do not speculate
            return False
        if not holds:
            continue
        steps = list(transition.actions)
        if transition.dest is not None:
            steps += [*spec.exit, *flow.states[transition.target].enter]
        return any(step.name == "respond" for step in steps)
    return False


class Speculator:
    """One call's speculation. All methods run on the call's loop."""

    def __init__(self, call: Any, ports: Ports) -> None:
        self.call = call
        self.ports = ports
        self.current: Speculation | None = None
        self.log: list[tuple[float, str]] = []  # (loop time, started|used|dropped (why)|...)

    def _note(self, what: str) -> None:
        self.log.append((self.call.now, what))
        log.debug("call %s: speculation %s", self.call.call_id, what)

    # -- from the STT ---------------------------------------------------------------------
    def guess(self, text: str, confidence: float | None = None) -> bool:
        """The caller paused after `text`: start the reply on it if the flow allows.
        True when a speculation runs for it."""
        text = str(text)  # as the STT will commit it: compared exactly
        current = self.current
        if current is not None and current.turn.text == text:
            return True  # the same words again (a second pause): keep what runs
        self.drop("a newer guess")
        why = self._refusal(text, confidence)
        if why:
            self._note(f"skipped ({why})")
            return False
        call = self.call
        turn = Turn(call_id=call.call_id, caller=call.caller, text=text,
                    heard=tuple(s.text for s in call.playback.heard), tentative=Tentative())
        spec = Speculation(turn, call.now)
        spec.task = asyncio.get_running_loop().create_task(
            self._pull(spec), name=f"{call.call_id}:speculation")
        self.current = spec
        self._note(f"started ({text!r:.60})")
        return True

    def drop(self, why: str = "the caller went on") -> None:
        """Withdraw the current speculation: nothing of it remains."""
        spec, self.current = self.current, None
        if spec is None:
            return
        spec.cancel()
        spec.tentative.drop()
        forget = getattr(self.ports.speaker, "forget_prepared", None)
        if forget is not None:
            forget()
        self._note(f"dropped ({why})")

    def _refusal(self, text: str, confidence: float | None) -> str:
        call = self.call
        if call.ended:
            return "the call ended"
        if not text.strip():
            return "no words"
        if not current_policy(call).speculate:
            return "turn.speculate is off"
        if not getattr(self.ports.brain, "tentative_ok", False):
            return "the brain cannot answer tentatively"
        if call.playback.playing:
            return "the agent is speaking"
        if any(name.endswith((":respond", ":speculation")) or ":tool:" in name
               for name in call.busy()):
            return "the brain is busy"
        data: dict[str, Any] = {"text": text}
        if confidence is not None:
            data["confidence"] = confidence
        if not would_respond(call, data):
            return f"{UTTERANCE} would not lead to respond in {call.state}"
        return ""

    async def _pull(self, spec: Speculation) -> None:
        prepare = getattr(self.ports.speaker, "prepare", None)
        try:
            async for item in self.ports.brain.respond(spec.turn):
                spec.items.put_nowait(item)
                if isinstance(item, ToolCall):
                    break  # a tool call is data: the machine decides whether it runs
                spec.pulled += 1
                if prepare is not None and spec.pulled <= PREPARED and not spec.committed.is_set():
                    assert isinstance(item, Sentence)
                    prepare(item.text)
                if spec.pulled >= MAX_BUFFERED and not spec.committed.is_set():
                    await spec.committed.wait()  # bounded ahead of the commit
            spec.items.put_nowait(_End())
        except asyncio.CancelledError:
            spec.items.put_nowait(_End(asyncio.CancelledError()))
            raise
        except Exception as exc:
            spec.items.put_nowait(_End(exc))

    # -- from Respond (the machine chose to reply) --------------------------------------
    def take(self, turn: Turn) -> Speculation | None:
        """The speculated reply to `turn` if there is one for the same words and the same
        heard sentences (it is committed now); otherwise whatever runs is dropped."""
        spec = self.current
        if spec is None:
            return None
        self.current = None
        same = spec.turn.text == turn.text and spec.turn.heard == turn.heard
        if not same or (spec.task is not None and spec.task.cancelled()):
            self.current = spec
            self.drop("the committed turn differs")
            return None
        spec.committed.set()
        spec.tentative.commit()
        ahead = self.call.now - spec.started
        self._note(f"used ({spec.pulled} sentences ready, started {ahead:.3f}s ahead)")
        return spec

    def settle(self) -> None:
        """The machine has handled the turn: a speculation `take` did not claim is dropped
        (the flow did not answer it with `respond`)."""
        if self.current is not None:
            self.drop("the turn ended without this reply")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.drop("the call ended")
