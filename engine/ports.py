"""The ports: what the engine needs from the outside world, as small async interfaces.

Adapters implement these (Twilio, Deepgram, Claude, ElevenLabs, the local stack, and the
scripted fakes of event scripts). The effect runner is their only caller. Brain output is a
stream of typed items so the engine, not the adapter, decides what reaches the machine.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from engine.playback import PlaybackLedger


@dataclass(frozen=True)
class Sentence:
    """A complete sentence of a reply, ready for speech."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """The brain asks for a tool. The one shape of a tool call end to end: the provider's
    stream, the brain's output, the `llm.tool_call` event (`name`, `args`, `id`), the
    run_tool effect, the conversation history and `Brain.tool_result`; `id` pairs the
    result with the call that asked for it."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)
    id: str = ""


BrainOutput = Sentence | ToolCall


class Tentative:
    """The mark of a speculative turn: the caller paused but may not have finished.

    A brain answering a `Turn` whose `tentative` is set must leave no lasting trace until
    the turn is committed: what it records (history, the event log, a script's records)
    waits in `on_commit`, or what it changed is undone in `on_drop`. Exactly one of the
    two runs, once: `commit()` when the machine asked for this very reply, `drop()` when
    the caller went on or said something else. Pure bookkeeping, on the loop thread.
    """

    __slots__ = ("_commit", "_drop", "state")

    def __init__(self) -> None:
        self.state = "open"  # open | committed | dropped
        self._commit: list[Callable[[], None]] = []
        self._drop: list[Callable[[], None]] = []

    def on_commit(self, fn: Callable[[], None]) -> None:
        """Run `fn` once the turn is committed (at once if it already is)."""
        if self.state == "committed":
            fn()
        elif self.state == "open":
            self._commit.append(fn)

    def on_drop(self, fn: Callable[[], None]) -> None:
        """Run `fn` if the turn is dropped (undo; later registrations run first)."""
        if self.state == "open":
            self._drop.append(fn)

    def restore_on_drop(self, entries: MutableMapping[str, Any], key: str) -> None:
        """Keep a copy of `entries[key]` as it is now and put it back if the turn is dropped
        (a brain's per-call state: whatever the speculative reply changed goes)."""
        had = key in entries
        saved = copy.deepcopy(entries[key]) if had else None

        def undo() -> None:
            if had:
                entries[key] = saved
            else:
                entries.pop(key, None)

        self.on_drop(undo)

    def commit(self) -> None:
        if self.state == "open":
            self.state, fns, self._drop = "committed", self._commit, []
            for fn in fns:
                fn()

    def drop(self) -> None:
        if self.state == "open":
            self.state, fns, self._commit = "dropped", self._drop, []
            for fn in reversed(fns):
                fn()


@dataclass(frozen=True)
class Turn:
    """What the brain needs to answer: the call and the caller's latest words."""

    call_id: str
    caller: str
    text: str
    heard: tuple[str, ...] = ()
    mark: Callable[[str], None] = field(default=lambda stage: None, compare=False, repr=False)
    """Report a latency stage: `mark("retrieval")`, `mark("llm_first_token")`."""
    tentative: Tentative | None = field(default=None, compare=False, repr=False)
    """Set on a speculative turn (see `Tentative`); only brains with `tentative_ok = True`
    are given one."""
    joins: str = ""
    """The caller's previous turn that `text` continues (it starts with those words): the
    reply to that turn was never heard and ran no tool, so the brain answers `text` from
    where it stood before them (`engine/turns/continuation.py`)."""


@dataclass(frozen=True)
class ToolOutcome:
    ok: bool
    result: Any = None
    error: str = ""


class Speaker(Protocol):
    async def say(self, speech_id: str, text: str) -> None:
        """Synthesize `text` and queue it for the caller; return once it is queued.
        The adapter reports it heard with `agent.playback_done {speech: speech_id}`."""

    def clear(self) -> None:
        """Drop everything queued and not yet heard."""

    def hold(self, music: str) -> None:
        """Loop hold audio (`music`: a checked WAV path, '' for the default chime) until
        `stop_hold`, the next `say` or a `clear`; nothing of it counts as heard speech."""

    def stop_hold(self) -> None:
        """End the hold audio at once (the caller's buffer is cleared); no-op if none."""


class Brain(Protocol):
    """A brain may set `tentative_ok = True`: it answers speculative turns (`Turn.tentative`)
    without a lasting trace unless they are committed. Without it no speculation runs."""

    def respond(self, turn: Turn) -> AsyncIterator[BrainOutput]:
        """Stream the reply: sentences as soon as they are complete, then maybe a tool call."""

    def tool_result(self, call_id: str, tool: ToolCall, outcome: ToolOutcome) -> None:
        """Give the brain the outcome of `tool` (asked for in call `call_id`) before the
        next `respond`; `tool.id` is the id the brain gave it."""

    def forget(self, call_id: str) -> None:
        """The call is over: drop its conversation state."""


class Tools(Protocol):
    async def run(self, name: str, args: dict[str, Any], call_id: str) -> ToolOutcome:
        """Run a tool; failures come back as a failed outcome, never as an exception."""


class NoHumanToTransferTo(ConnectionError):
    """The call has no telephony that can transfer it (a local simulated call): an expected
    outcome the flow handles (it takes a message), not a fault."""


@dataclass(frozen=True)
class WarmDial:
    """A warm transfer: the human hears `whisper` before being connected; the phone rings
    at most `ring_seconds`; how it ended comes back as a `transfer.*` event (busy,
    no_answer, canceled, failed: with the caller back on the agent's line)."""

    whisper: str
    ring_seconds: int = 25
    hold_music: str = ""  # what the caller hears while it rings (settings.hold_music)


class Telephony(Protocol):
    async def transfer(self, number: str, warm: WarmDial | None = None) -> None:
        """Hand the call to `number` (`warm`: with a whisper, reporting back); raise on
        failure (`NoHumanToTransferTo` when this telephony can never transfer)."""

    async def hang_up(self) -> None: ...

    # Optional: `stop_ringing() -> None` (not awaited) stops a warm transfer's human phone
    # when the flow leaves the state that rang before any outcome came (adapters/twilio).


@dataclass
class Ports:
    speaker: Speaker
    brain: Brain
    tools: Tools
    telephony: Telephony
    playback: PlaybackLedger = field(default_factory=PlaybackLedger)
    """The one record of what the caller has heard: the telephony side owns it (its marks
    say what was heard) and hands it over; without telephony the call gets a fresh one."""
